"""Loading a revised draft into an existing document, matched unit by unit (see service)."""
