"""gcdt.iam (gcdt_kumo.iam): IAM roles and policies for troposphere templates."""
import re

from gcdt._needs import troposphere_modules

troposphere, iam = troposphere_modules("gcdt.iam", "troposphere", "troposphere.iam")


def _logical_id(name):
    """A CloudFormation logical id from a name like 'embed-player_wrapper': 'EmbedPlayerWrapper'."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


class IAMRoleAndPolicies(object):
    """Builds roles (assumable by `role_principals`, under `role_path`, named with
    `role_name_prefix`) and policies into `template`."""

    def __init__(self, template, role_name_prefix, role_principals, role_path):
        self.template = template
        self.role_name_prefix = role_name_prefix
        self.role_principals = role_principals
        self.role_path = role_path

    def name_strip(self, name, prefix=True):
        """The logical id of `name` (with the role prefix in front when `prefix`)."""
        return _logical_id((self.role_name_prefix if prefix else "") + "-" + name)

    def build_role(self, name, policies=False):
        """An AWS::IAM::Role `name` the principals may assume, with the managed `policies`
        (ARNs or Refs), added to the template and returned."""
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": list(self.role_principals)},
            "Action": ["sts:AssumeRole"],
        }
        properties = {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "Path": self.role_path,
        }
        if policies:
            properties["ManagedPolicyArns"] = list(policies)
        role = iam.Role(self.name_strip(name), **properties)
        return self.template.add_resource(role)

    def build_policy(self, name, statements, roles, is_managed_policy=False):
        """An inline policy (AWS::IAM::Policy) or, with `is_managed_policy`, a managed one
        (AWS::IAM::ManagedPolicy) of `statements` for `roles`, added to the template and returned."""
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        refs = [troposphere.Ref(r) if not isinstance(r, (str, troposphere.AWSHelperFn)) else r for r in roles]
        if is_managed_policy:
            policy = iam.ManagedPolicy(self.name_strip(name, prefix=False), PolicyDocument=document,
                                       Path=self.role_path, Roles=refs)
        else:
            policy = iam.PolicyType(self.name_strip(name, prefix=False),
                                    PolicyName=self.name_strip(name, prefix=False),
                                    PolicyDocument=document, Roles=refs)
        return self.template.add_resource(policy)
