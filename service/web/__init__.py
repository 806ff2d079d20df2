"""The HTML front end: request glue shared by the blueprints."""
