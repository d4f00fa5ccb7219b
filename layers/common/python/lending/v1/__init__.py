"""Library API v1 (Pretnumerique style): X-Api-Key, `.json` / `.xml` suffix, `{"errors": [...]}`."""
