"""The warehouse lending URL (CONTRACT 5, seeds/003): a secret URL per licence that a library's
lending system POSTs to, answering a time-limited file URL or the spec's error names."""
