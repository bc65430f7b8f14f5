"""gcdt.kumo_util (gcdt_kumo.kumo_util): helpers templates and hooks used."""


def ensure_ebs_volume_tags_autoscaling_group(awsclient, as_group_name, tags):
    """Tags the EBS volumes of every instance of the autoscaling group `as_group_name` with
    `tags` ([{'Key': ..., 'Value': ...}]), adding only the tags a volume lacks."""
    ec2 = awsclient.get_client("ec2")
    reservations = ec2.describe_instances(
        Filters=[{"Name": "tag:aws:autoscaling:groupName", "Values": [as_group_name]}])["Reservations"]
    for reservation in reservations:
        for instance in reservation["Instances"]:
            ensure_ebs_volume_tags_ec2_instance(awsclient, instance["InstanceId"], tags)


def ensure_ebs_volume_tags_ec2_instance(awsclient, instance_id, tags):
    """Tags the EBS volumes attached to `instance_id` with `tags`."""
    ec2 = awsclient.get_client("ec2")
    volumes = ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"]
    for volume in volumes:
        ensure_tags_ebs_volume(awsclient, volume, tags)


def ensure_tags_ebs_volume(awsclient, volume, tags):
    """Adds the tags of `tags` that `volume` (a describe_volumes entry) does not have yet."""
    missing = [tag for tag in tags if tag not in volume.get("Tags", [])]
    if missing:
        awsclient.get_client("ec2").create_tags(Resources=[volume["VolumeId"]], Tags=missing)
