# fink's Python bridge: runs a project's Python hooks, templates and configs the way gcdt and
# fink ran them, for one fink run. fink starts it with the project's interpreter and speaks one
# JSON object per line over two pipes of their own (FINK_BRIDGE_FDS: requests, answers), so the
# project's code keeps stdin (empty) and stdout (fink's stderr) for itself.
import importlib.abc
import importlib.util
import inspect
import json
import math
import os
import sys
import traceback
import types

_fds = os.environ.pop("FINK_BRIDGE_FDS", "3,4").split(",")
for _fd in _fds:
    # Not passed on to what the project's code starts (os.system, subprocess with close_fds=False).
    os.set_inheritable(int(_fd), False)
requests = os.fdopen(int(_fds[0]), "r", encoding="utf-8")
answers = os.fdopen(int(_fds[1]), "w", buffering=1, encoding="utf-8")

SIGNALS = [
    "initialized", "config_read_init", "config_read_finalized", "check_credentials_init",
    "check_credentials_finalized", "lookup_init", "lookup_finalized", "config_validation_init",
    "config_validation_finalized", "bundle_pre", "bundle_init", "bundle_finalized", "command_init",
    "command_finalized", "error", "finalized",
]
# Called with the context alone; every other signal passes the (context, config) pair.
CONTEXT_ONLY = {"initialized", "finalized"}
# The module being loaded, so connect() knows whose function it is.
loading = {"file": None}


class Signal:
    """A gcdt signal: `connect(fn)` subscribes fn; fink sends it."""

    def __init__(self, name):
        self.name = name
        self.receivers = []

    def connect(self, receiver, *args, **kwargs):
        self.receivers.append((loading["file"], receiver))
        return receiver

    def disconnect(self, receiver, *args, **kwargs):
        self.receivers = [(f, r) for (f, r) in self.receivers if r is not receiver]


def signals_module(name):
    module = types.ModuleType(name)
    for signal in SIGNALS:
        setattr(module, signal, Signal(signal))
    return module


def package(name):
    module = types.ModuleType(name)
    module.__path__ = []
    return module


# `from gcdt import gcdt_signals` and `from fink import fink_signals` give the same signals.
signals = signals_module("gcdt_signals")
for pkg, attr in (("gcdt", "gcdt_signals"), ("fink", "fink_signals")):
    parent = package(pkg)
    setattr(parent, attr, signals)
    sys.modules[pkg] = parent
    sys.modules[pkg + "." + attr] = signals

PROVIDED = {"gcdt", "gcdt.gcdt_signals", "fink", "fink.fink_signals"}

# gcdt's helper modules, shipped with the bridge (plugins/hooks/src/python/gcdt/): fink puts their
# sources in HELPERS ahead of this script. gcdt 0.2 moved some to gcdt_kumo; both names work.
HELPERS = globals().get("HELPERS", {})
KUMO_HELPERS = {"iam", "route53", "kumo_util", "kumo_particle_helper"}


def helper_source(name):
    """The shipped source of the helper module `name` (gcdt.iam, gcdt_kumo.iam, ...), or None."""
    top, _, rest = name.partition(".")
    if top == "gcdt" and rest in HELPERS:
        return HELPERS[rest]
    if top == "gcdt_kumo" and rest in KUMO_HELPERS and rest in HELPERS:
        return HELPERS[rest]
    return None


class EmptyPackage(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        pass


class Helper(importlib.abc.Loader):
    """Runs a shipped helper module's source as that module."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source = helper_source(module.__name__)
        exec(compile(source, "<fink's %s>" % module.__name__, "exec"), module.__dict__)


class NotProvided(importlib.abc.MetaPathFinder):
    """gcdt's helper modules come from HELPERS; the others gcdt had (gcdt.gcdt_lifecycle, ...)
    are not part of fink: say so, naming the module the project asked for (its top-level
    package is an empty stand-in to get that far)."""

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if name in PROVIDED:
            return None
        if helper_source(name) is not None:
            return importlib.util.spec_from_loader(name, Helper())
        ours = top in ("gcdt", "fink") or top.startswith("gcdt_") or top.startswith("fink_")
        if ours and name == top and top not in ("gcdt", "fink"):
            return importlib.util.spec_from_loader(name, EmptyPackage(), is_package=True)
        if ours:
            raise ImportError(
                "%s is a gcdt module that fink does not provide (it provides gcdt_signals, "
                "fink_signals and the helpers %s); see docs/hooks.md#python-hooks-and-templates"
                % (name, ", ".join("gcdt." + h for h in sorted(HELPERS) if not h.startswith("_"))),
                name=name)
        return None


sys.meta_path.insert(0, NotProvided())

modules = {}

# The context's `_awsclient` in a gcdt project: one per run, its boto3 clients made when first used.
awsclient = {"client": None}


def gcdt_context(request, context):
    """In a gcdt project, the context gets gcdt's `_awsclient`; gcdt.utils.get_env() knows the
    run's env. Returns a function taking `_awsclient` out again (it is no JSON)."""
    if not request.get("gcdt"):
        return lambda: None
    import gcdt.gcdt_awsclient
    import gcdt.utils
    if awsclient["client"] is None:
        awsclient["client"] = gcdt.gcdt_awsclient.AWSClient()
    gcdt.utils._RUN_ENV["env"] = context.get("env")
    context["_awsclient"] = awsclient["client"]
    return lambda: context.pop("_awsclient", None)


def without_awsclient(context):
    return dict((k, v) for (k, v) in context.items() if k != "_awsclient")


def load(path):
    """Imports the project file at `path` and calls its register()."""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    loading["file"] = os.path.basename(path)
    try:
        spec.loader.exec_module(module)
        register = getattr(module, "register", None)
        if callable(register):
            register()
    finally:
        loading["file"] = None
    modules[path] = module
    connected = {}
    for signal in SIGNALS:
        count = sum(1 for (f, _) in getattr(signals, signal).receivers if f == os.path.basename(path))
        if count:
            connected[signal] = count
    functions = [n for n in ("generate_template", "get_stack_policy", "get_stack_policy_during_update",
                             "generate_config") if callable(getattr(module, n, None))]
    return {"signals": connected, "functions": functions}


class NotJSON(Exception):
    """A value the project's code handed back that JSON cannot carry."""


def not_json(value, path):
    """Where `value` holds something JSON has no form for, as a sentence; None when it is JSON."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "%s is %r, which JSON cannot carry (it has no NaN or infinities)" % (path, value)
        return None
    if value is None or isinstance(value, (str, int, bool)):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return "%s has the key %r (a %s): JSON keys are strings" % (path, key, type(key).__name__)
            found = not_json(item, "%s[%r]" % (path, key))
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = not_json(item, "%s[%d]" % (path, i))
            if found:
                return found
        return None
    return "%s is a %s, which JSON cannot carry" % (path, type(value).__name__)


def check_json(**values):
    for name, value in values.items():
        found = not_json(value, name)
        if found:
            raise NotJSON(found)


def dumps(value):
    return json.dumps(value, allow_nan=False)


def running(where, function):
    """Tells fink which project function runs now, so a timeout can name it."""
    answers.write(dumps({"running": {"file": where, "function": function}}) + "\n")
    answers.flush()


def call(function, context, config):
    """gcdt called these with no arguments or with (context, config), whichever they take."""
    try:
        wanted = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        wanted = 0
    if wanted >= 2:
        return function(context, config)
    if wanted == 1:
        return function(context)
    return function()


def as_json(value):
    """A template or policy: a JSON string, a dict, or an object with to_json() (troposphere)."""
    if hasattr(value, "to_json"):
        value = value.to_json()
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        return value
    check_json(value=value)
    return json.dumps(value, indent=2, allow_nan=False)


def failure(where, function, exc):
    if isinstance(exc, NotJSON):
        return {"ok": False, "error": {"file": where, "function": function, "not_json": str(exc),
                                       "message": str(exc), "traceback": ""}}
    return {"ok": False, "error": {
        "file": where, "function": function,
        "message": "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__,
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }}


def handle(request):
    op = request.get("op")
    if op == "load":
        try:
            running(os.path.basename(request["file"]), "<module>")
            return {"ok": True, **load(request["file"])}
        except BaseException as exc:
            return failure(os.path.basename(request["file"]), "<module>", exc)
    if op == "signal":
        signal = request["signal"]
        context, config = request.get("context", {}), request.get("config", {})
        done = gcdt_context(request, context)
        try:
            for (where, receiver) in list(getattr(signals, signal).receivers):
                name = getattr(receiver, "__name__", repr(receiver))
                try:
                    running(where, name)
                    receiver(context) if signal in CONTEXT_ONLY else receiver((context, config))
                    check_json(context=without_awsclient(context), config=config)
                except BaseException as exc:
                    return failure(where, name, exc)
        finally:
            done()
        return {"ok": True, "context": context, "config": config}
    if op == "call":
        where, name = request["file"], request["function"]
        module = modules[where]
        context = request.get("context", {})
        done = gcdt_context(request, context)
        try:
            running(os.path.basename(where), name)
            value = call(getattr(module, name), context, request.get("config", {}))
            done()
            if name == "generate_config":
                if not isinstance(value, dict):
                    raise TypeError("generate_config() must return a dict, not %s" % type(value).__name__)
                check_json(config=value)
                return {"ok": True, "value": value}
            return {"ok": True, "value": None if value is None else as_json(value)}
        except BaseException as exc:
            return failure(os.path.basename(where), name, exc)
    return {"ok": False, "error": {"file": "", "function": "", "message": "unknown request %r" % op, "traceback": ""}}


def main():
    project = os.getcwd()
    if project not in sys.path:
        sys.path.insert(0, project)
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        if request.get("op") == "quit":
            break
        answer = handle(request)
        try:
            text = dumps(answer)
        except (TypeError, ValueError) as exc:
            # check_json let something through: still an answer, never a dead bridge.
            text = dumps(failure(os.path.basename(request.get("file", "")), request.get("function", ""),
                                 NotJSON("the answer is not JSON: %s" % exc)))
        answers.write(text + "\n")
        answers.flush()


main()
