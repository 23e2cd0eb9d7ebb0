"""Recordbase: a schema-configurable records platform.

Importing the package does nothing: no app, engine or plugin is created until
``create_app`` is called.
"""

__version__ = "0.1.0"
