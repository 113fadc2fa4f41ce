"""`make bench`: what a request costs (DynamoDB round trips and capacity), how fast a function starts and
answers, and how much the local stack serves. Each endpoint adds its scenario to `SCENARIOS`."""
