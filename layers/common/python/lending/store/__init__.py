"""DynamoDB: the only code that talks to the table. One table, overloaded keys, sparse GSIs.

Access patterns (item: pk / sk; indexes):
- account            ACCOUNT#<gln> / ACCOUNT                          GSI1 ACCOUNTS#<role> / <gln>
- v1 api key         APIKEY#<sha256(key)> / APIKEY                     -> the collectivity's GLN
- offer              OFFER#<ean13> / DIST#<glnDistributor>            GSI1 DIST#<gln> / <updatedAt>#<ean13>
- order              ORDER#<glnReseller>#<orderId> / ORDER            GSI1 COLL#<glnColl> / <createdAt>#...
                                                                      GSI3 RESELLER#<glnReseller> / <createdAt>#...
- order line/licence LINE#<orderLineId> / LINE    its hot state: status, counters, hold marks, `loans`
                     {loanId: seat} (licences.HOT, SEATS; docs/line-split.md): what every conditional write
                     of a loan, an end or a hold targets, under 1 KB with 20 live seats
                     LINE#<orderLineId> / TERMS   the licence's immutable terms (order fields, dates, token,
                     prices), written once with its order   GSI1 LINES#<glnColl> / <endDate>#<orderLineId>
                                                              GSI2 COLLEAN#<glnColl>#<ean13> / <endDate>
                                                              GSI3 SALES#<glnDistributor>#<ean13> / <dmdDate>#...
                     read together: one Query of the partition, merged (licences.get_line); an index entry
                     of TERMS is read back with its LINE (table.hydrate). A refused line is one LINE item.
- loan               LOAN#<glnColl>#<loanId> / LOAN                   GSI1 LINE#<orderLineId> / <createdAt>#<loanId>
                                                                      GSI3 ENDED#<glnColl> / <returnedAt>#<loanId>
                                                                      GSI4 MEMBER#<glnColl>#<memberId> / <createdAt>#...
- v1 patron record   PATRON#<glnColl>#<memberId> / PATRON             version, active loans, counts, courtesy
- v1 library's loans V1LOANS#<glnColl> / <createdAt>#<loanId>         (store/patrons.py)
- v1 email owner     PATRONMAIL#<glnColl>#<keyed digest> / EMAIL      memberId (never the address)
- lending system     LENDINGSYSTEMS / <id>                            warehouse bill_drm_to register
- declared IP range   IP#<glnColl> / RANGE#<first[,last]>              (a query of the partition lists them)
- outbox event       OUTBOX#<eventId> / OUTBOX                        GSI2 OUTBOX / <createdAt> (until enqueued)
- rate counter       RATE#<name>#<gln> / <window>
- FTP files state    FTPFILES#<gln> / STATE, FTPFILES#ONIX#<glnDistributor> / STATE  (store/ftp_files.py)
- LCP publication    LCPPUB#<ean13> / LCPPUB                          wrapped content key, protected EPUB (store/lcp)
- LCP licence        LCPL#<licenceId> / LCPL                          the signed document, device events
- loan's licence     LOAN#<glnColl>#<loanId> / LCPL                   -> licenceId (one licence per loan)
- catalogue          feeds, sync cursors and leases, ONIX update files, getOffers callers (store/catalogue.py)
- console            staff STAFF#<email> (GSI1 STAFFOF#<glnColl>), sessions SESSION#<sha256>, one-time tokens
                     STAFFTOKEN#<sha256>, sign-in failures RATE#signin#..., audit AUDIT#<glnColl>, patron API key
                     generation PATRONKEY#<glnColl>#<memberId> (store/staff.py); the current v1 key's id
                     `apiKeyId` on the account (store/settings.py)
- patron space       sessions PSESSION#<sha256> / SESSION (store/patron_sessions.py); sign-in failures share
                     RATE#signin#patron#<glnColl>#<memberId>
"""
