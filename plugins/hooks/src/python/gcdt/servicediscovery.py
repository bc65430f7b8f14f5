"""gcdt.servicediscovery: the outputs of another stack, for templates and hooks."""


def get_outputs_for_stack(awsclient, stack_name):
    """The outputs of `stack_name` as {OutputKey: OutputValue}; None when it has none."""
    client = awsclient.get_client("cloudformation")
    stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    if stacks and "Outputs" in stacks[0]:
        return dict((o["OutputKey"], o["OutputValue"]) for o in stacks[0]["Outputs"])
    return None
