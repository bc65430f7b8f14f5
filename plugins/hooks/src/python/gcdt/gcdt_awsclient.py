"""gcdt's AWS client, as the context's `_awsclient` and the first argument of gcdt's helpers.

`get_client(service)` gives a boto3 client built from fink's AWS settings: the Python process
inherits fink's environment (AWS_PROFILE or AWS_DEFAULT_PROFILE, AWS_REGION or
AWS_DEFAULT_REGION, AWS_ENDPOINT_URL), so the client talks to the account, region and endpoint
fink talks to. boto3 is imported when a client is first asked for: without boto3 in the project's
Python, that call raises ImportError naming what needs it and what to install.
"""
import os
import sys


def require_boto3(needed_by):
    """boto3, or an ImportError naming `needed_by` and what to install."""
    try:
        import boto3
    except ImportError:
        raise ImportError(
            "%s needs boto3, which the project's Python (%s) does not have: install it there "
            "(pip install boto3) or name a Python that has it in the config's `python` key"
            % (needed_by, sys.executable), name="boto3")
    return boto3


class AWSClient(object):
    """A client factory: one boto3 session, one client per service (cached, as gcdt's was)."""

    def __init__(self, region=None):
        self._region = region
        self._session = None
        self._clients = {}

    def _get_session(self):
        if self._session is None:
            boto3 = require_boto3("gcdt's awsclient (context['_awsclient'])")
            profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or None
            region = (self._region or os.environ.get("AWS_REGION")
                      or os.environ.get("AWS_DEFAULT_REGION") or None)
            self._session = boto3.session.Session(profile_name=profile, region_name=region)
        return self._session

    def get_client(self, service):
        if service not in self._clients:
            endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
            self._clients[service] = self._get_session().client(service, endpoint_url=endpoint)
        return self._clients[service]

    def __repr__(self):
        return "<gcdt.gcdt_awsclient.AWSClient (fink's AWS settings)>"
