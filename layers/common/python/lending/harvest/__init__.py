"""The library's catalogue for harvesters and reading apps: the Cantook-family v1 resources
(`/v1/resources`) and an OPDS 2 feed of the same titles (`/v1/opds.json`), per library API key."""
