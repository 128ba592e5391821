from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY shop_product_sku_idx ON shop_product (sku)",
            reverse_sql="DROP INDEX CONCURRENTLY shop_product_sku_idx",
        ),
    ]
