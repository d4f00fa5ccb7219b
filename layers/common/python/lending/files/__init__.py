"""Files served by FTP: the PMB-style offer/order files of each account and the full ONIX catalogue.

- pmb.py     the XML shape PMB's scheduled task (sync_pnb) reads, and the file names its listing sorts
- layout.py  where the files live in the bucket, and what each account sees of them (its jailed tree)
"""
