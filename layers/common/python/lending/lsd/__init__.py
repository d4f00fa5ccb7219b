"""The LCP door: licences, licence status documents (Readium LSD) and protected publications."""
