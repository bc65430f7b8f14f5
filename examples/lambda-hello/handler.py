"""A sample AWS Lambda function deployed with `fink lambda deploy`.

It answers fink's ping (`{"ramuda_action": "ping"}` -> "alive") and greets with the greeting
from settings.json, which the bundler writes from the config's `lambda.settings`.
"""
import json
import os

from lib.greet import greet

with open(os.path.join(os.path.dirname(__file__), "settings.json")) as f:
    SETTINGS = json.load(f)


def handle(event, context):
    if event.get("ramuda_action") == "ping":
        return "alive"
    return {"message": greet(SETTINGS["greeting"], event.get("name", "world"))}
