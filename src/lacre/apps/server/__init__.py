"""The all-in-one ``lacre server``."""
