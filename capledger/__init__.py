"""capledger: the command line that joins the write side (``ledger``) to the read side
(``projections``)."""
