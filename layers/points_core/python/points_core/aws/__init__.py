"""The AWS side: cached boto3 clients, the environment (settings), Logger/Tracer/Metrics, the validation-code
secret, SNS delivery."""
