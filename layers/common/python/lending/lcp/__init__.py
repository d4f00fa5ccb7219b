"""Readium LCP: protecting publications, licence documents and licence status documents (LSD).

Pure: no AWS, no clock of its own. Keys and certificates come in as arguments; `services.lcp` fetches
them (KMS, Secrets Manager) and `store.lcp` keeps what must be kept."""
