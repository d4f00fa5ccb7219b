"""Pure rules: no boto3, no HTTP, no clock of its own (every rule takes `now`)."""
