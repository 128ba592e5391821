"""django-add-default-value's `AddDefaultValue`, as the package does it on PostgreSQL.

`AddDefaultValue(model_name, name, value)` changes no model state and runs
`ALTER TABLE <table> ALTER COLUMN <column> SET DEFAULT <value>` (a catalog-only change).
"""
from django.db.migrations.operations.base import Operation


class AddDefaultValue(Operation):
    reversible = True

    def __init__(self, model_name, name, value):
        self.model_name = model_name
        self.name = name
        self.value = value

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(model._meta.db_table)} ALTER COLUMN {quote(field.column)} SET DEFAULT %s",
            [self.value],
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} ALTER COLUMN {quote(field.column)} DROP DEFAULT")

    def describe(self):
        return f"Add to field {self.model_name}.{self.name} the default value {self.value}"
