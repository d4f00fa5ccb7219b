"""GET /catalogue/onix/{token}: an ONIX update file named in a getOffers answer (302 to S3)."""

from lending.downloads.door import onix_file_handler

lambda_handler = onix_file_handler()
