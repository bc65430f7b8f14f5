"""gcdt.route53 (gcdt_kumo.route53): Route 53 records for troposphere templates."""
from gcdt._needs import troposphere_modules
from gcdt.gcdt_exceptions import GcdtError
from gcdt.servicediscovery import get_outputs_for_stack
from gcdt.utils import get_env

troposphere, ec2, route53 = troposphere_modules("gcdt.route53", "troposphere", "troposphere.ec2",
                                                "troposphere.route53")

TTL_DEFAULT = 300
# The output of the env's default stack ('dp-<env>') naming the hosted zone, when none is given.
HOST_ZONE_NAME__STACK_OUTPUT_NAME = "internalDomainName"
_host_zone_name = {}


def create_record(awsclient, name_prefix, instance_reference, type="A", host_zone_name=None):
    """A RecordSetType `<name_prefix>.<host zone>` pointing at `instance_reference` (an EC2
    Instance: its private IP). Without `host_zone_name` (with its final dot), the zone is the
    `internalDomainName` output of the stack `dp-<env>`."""
    if type not in ("A", "CNAME"):
        raise GcdtError("Record set type is not supported!")
    if host_zone_name is None:
        host_zone_name = _retrieve_stack_host_zone_name(awsclient)
    record_id = name_prefix.replace(".", "").replace("-", "").title() + "HostRecord"
    if isinstance(instance_reference, ec2.Instance):
        target = troposphere.GetAtt(instance_reference, "PrivateIp")
    else:
        target = instance_reference
    return route53.RecordSetType(
        record_id,
        HostedZoneName=host_zone_name,
        Name=troposphere.Join("", [name_prefix + ".", host_zone_name]),
        Type=type,
        TTL=str(TTL_DEFAULT),
        ResourceRecords=[target],
    )


def _retrieve_stack_host_zone_name(awsclient, default_stack_name=None):
    env = get_env()
    if env is None:
        raise GcdtError("gcdt.route53: no env (set ENV or run fink with -e) to find the default stack")
    stack = default_stack_name or "dp-%s" % env
    if stack not in _host_zone_name:
        outputs = get_outputs_for_stack(awsclient, stack) or {}
        if HOST_ZONE_NAME__STACK_OUTPUT_NAME not in outputs:
            raise GcdtError("gcdt.route53: the stack '%s' has no output '%s' naming the hosted zone"
                            % (stack, HOST_ZONE_NAME__STACK_OUTPUT_NAME))
        _host_zone_name[stack] = outputs[HOST_ZONE_NAME__STACK_OUTPUT_NAME] + "."
    return _host_zone_name[stack]
