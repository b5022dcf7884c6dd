"""Number formats for Spanish, as studios in Colombia write them.

Django's own ``es`` formats group thousands with a space; Colombian managers
read 1.520 tokens, with a period, and a comma before decimals.
"""

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
