"""An independent AWS client (boto3, not this project's code) driving the lab's endpoint.

Usage: independent_client.py stop|start INSTANCE_ID
       independent_client.py blackhole ZONE          -> prints {"acl": ..., "saved": [{"subnet":..., "acl":...}]}
       independent_client.py restore JSON             (the blackhole output)
       independent_client.py ssm INSTANCE_ID COMMAND  -> prints the invocation status and output
Reads AWS_ENDPOINT_URL / AWS_REGION / credentials from the environment (the lab's .lab/env).
"""
import json
import sys
import time

import boto3
from botocore.exceptions import ClientError

ec2 = boto3.client("ec2")
ssm = boto3.client("ssm")


def wait_state(iid, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        s = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]
        if s == want:
            return s
        time.sleep(0.25)
    raise SystemExit(f"{iid} did not reach {want}")


def main(argv):
    cmd = argv[1]
    if cmd == "stop":
        r = ec2.stop_instances(InstanceIds=[argv[2]])["StoppingInstances"][0]
        print(json.dumps({"current": r["CurrentState"]["Name"], "final": wait_state(argv[2], "stopped")}))
    elif cmd == "start":
        r = ec2.start_instances(InstanceIds=[argv[2]])["StartingInstances"][0]
        print(json.dumps({"current": r["CurrentState"]["Name"], "final": wait_state(argv[2], "running")}))
    elif cmd == "blackhole":
        zone = argv[2]
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=[{"ResourceType": "network-acl", "Tags": [{"Key": "independent-client", "Value": "boto3"}]}])["NetworkAcl"]["NetworkAclId"]
        saved = []
        for s in ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": [zone]}])["Subnets"]:
            cur = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [s["SubnetId"]]}])["NetworkAcls"][0]
            assoc = next(a for a in cur["Associations"] if a["SubnetId"] == s["SubnetId"])
            ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl)
            saved.append({"subnet": s["SubnetId"], "acl": cur["NetworkAclId"]})
        print(json.dumps({"acl": acl, "saved": saved}))
    elif cmd == "restore":
        state = json.loads(argv[2])
        for s in state["saved"]:
            cur = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [s["subnet"]]}])["NetworkAcls"][0]
            assoc = next(a for a in cur["Associations"] if a["SubnetId"] == s["subnet"])
            ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=s["acl"])
        ec2.delete_network_acl(NetworkAclId=state["acl"])
        print(json.dumps({"restored": len(state["saved"])}))
    elif cmd == "ssm":
        cid = ssm.send_command(InstanceIds=[argv[2]], DocumentName="AWS-RunShellScript", Parameters={"commands": [argv[3]]})["Command"]["CommandId"]
        end = time.time() + 30
        while time.time() < end:
            try:
                r = ssm.get_command_invocation(CommandId=cid, InstanceId=argv[2])
                if r["Status"] not in ("Pending", "InProgress", "Delayed"):
                    print(json.dumps({"status": r["Status"], "code": r["ResponseCode"], "stdout": r["StandardOutputContent"]}))
                    return
            except ClientError as e:
                if e.response["Error"]["Code"] != "InvocationDoesNotExist":
                    raise
            time.sleep(0.25)
        raise SystemExit("command did not finish")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
