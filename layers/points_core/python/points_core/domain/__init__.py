"""The pure domain: models, the redemption and reversal rules, the ledger, identifiers, validation codes,
time zones, till passwords, the code catalogue and the exceptions. No boto3, no environment, no HTTP, no wire
format, no clock (time is passed in): tests/unit/test_layers.py checks the imports."""
