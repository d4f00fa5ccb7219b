"""Use cases: the domain rules applied to what the store holds. Protocol-neutral: they raise
`Refused` with the PNB code, and each door words it its own way."""
