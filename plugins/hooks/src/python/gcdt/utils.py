"""gcdt.utils: the helpers gcdt's templates used (`get_env`)."""
import os

# The run's env when fink was given it with -e and ENV is unset; the bridge sets it.
_RUN_ENV = {"env": None}


def get_env():
    """The env, lower case: $ENV as gcdt read it, else the env of this fink run; None without one."""
    env = os.environ.get("ENV") or _RUN_ENV["env"]
    return env.lower() if env else None
