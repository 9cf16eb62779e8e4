"""The API's rate rule, the access logs and their encryption, as the local cloud deploys them.

The local API server applies no WAF rule and writes no access log (the deployer's notes say
so); what is checked here is that the template's settings reach moto's WAF, API Gateway, S3
and CloudWatch Logs as AWS would receive them, so a wrong rule or a bucket that cannot log
fails locally rather than at the first deployment.
"""

from __future__ import annotations

import json

from localcloud.cloud import REGION, LocalCloud


def test_the_api_stage_sits_behind_a_rate_rule_per_client_address(cloud: LocalCloud) -> None:
    # Given the deployed web ACL
    wafv2 = cloud.client("wafv2")
    acl_arn = cloud.attribute("ApiWebAcl", "Arn")
    acl = next(
        wafv2.get_web_acl(Name=summary["Name"], Scope="REGIONAL", Id=summary["Id"])["WebACL"]
        for summary in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]
        if summary["ARN"] == acl_arn
    )

    # Then one rule blocks an address past the limit, with an Open311 error body and a 429
    (rule,) = acl["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == 2000 and rate["EvaluationWindowSec"] == 300
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert json.loads(body["Content"])[0]["code"] == 429
    assert acl["DefaultAction"] == {"Allow": {}}

    # And the ACL is associated with the API's stage
    stage = cloud.physical_id("GyeonggiApiStage")
    api = cloud.physical_id("GyeonggiApi")
    stage_arn = f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/{stage}"
    assert wafv2.get_web_acl_for_resource(ResourceArn=stage_arn)["WebACL"]["ARN"] == acl_arn


def test_api_gateway_logs_through_the_accounts_cloudwatch_role(cloud: LocalCloud) -> None:
    role_arn = cloud.attribute("ApiGatewayCloudWatchRole", "Arn")
    assert cloud.client("apigateway").get_account()["cloudwatchRoleArn"] == role_arn
    trust = cloud.client("iam").get_role(RoleName=cloud.physical_id("ApiGatewayCloudWatchRole"))
    principals = [
        s["Principal"]["Service"] for s in trust["Role"]["AssumeRolePolicyDocument"]["Statement"]
    ]
    assert principals == ["apigateway.amazonaws.com"]


def test_access_logs_are_encrypted_and_kept_two_years(cloud: LocalCloud) -> None:
    logs = cloud.client("logs")
    data_key = cloud.attribute("DataKey", "Arn")
    for logical_id, days in (
        ("ApiAccessLogs", 731),
        ("ComplaintIntakeLogs", 90),
        ("ComplaintTriageLogs", 90),
        ("SafetyAlertLogs", 90),
    ):
        name = cloud.physical_id(logical_id)
        (group,) = [
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            if g["logGroupName"] == name
        ]
        assert group.get("kmsKeyId") == data_key, logical_id
        assert group.get("retentionInDays") == days, logical_id


def test_the_cctv_bucket_logs_every_access_to_a_locked_down_bucket(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3")
    cctv = cloud.physical_id("CctvBucket")
    target = cloud.physical_id("CctvAccessLogsBucket")

    # Given server access logging on the CCTV bucket
    enabled = s3.get_bucket_logging(Bucket=cctv)["LoggingEnabled"]
    assert enabled == {"TargetBucket": target, "TargetPrefix": "cctv-bucket/"}

    # Then the log bucket is private, encrypted, versioned and expires logs after two years
    block = s3.get_public_access_block(Bucket=target)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (rule,) = s3.get_bucket_encryption(Bucket=target)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=target)["Status"] == "Enabled"
    (expiry,) = s3.get_bucket_lifecycle_configuration(Bucket=target)["Rules"]
    assert expiry["Expiration"] == {"Days": 730} and expiry["Status"] == "Enabled"
    owner = s3.get_bucket_ownership_controls(Bucket=target)["OwnershipControls"]["Rules"]
    assert owner == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    # And only S3's log delivery, for the CCTV bucket, may write there, over TLS only
    policy = json.loads(s3.get_bucket_policy(Bucket=target)["Policy"])
    allow, deny = policy["Statement"]
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{cctv}"
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    # And the CCTV bucket's own segment expiry, a rule per retention class, reached S3 as well
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=cctv)["Rules"]}
    default = rules["expire-segments-30d"]
    assert default["Filter"] == {"Prefix": "cctv/"} and default["Expiration"] == {"Days": 29}
    assert rules["expire-segments-7d"]["Filter"] == {"Prefix": "cctv-7d/"}
    assert "expire-reference-frames" in rules
