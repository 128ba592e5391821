from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        # PostgreSQL refuses it inside the migration's transaction.
        migrations.RunSQL(  # expect: selftest-refused-statement
            "CREATE INDEX CONCURRENTLY shop_product_sku_idx ON shop_product (sku)",
            reverse_sql="DROP INDEX CONCURRENTLY shop_product_sku_idx",
        ),
    ]
