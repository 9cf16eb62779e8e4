"""Deploys a transformed template into the local cloud, one resource at a time.

A small CloudFormation: resources are created in dependency order through the ordinary AWS
APIs (which moto answers), intrinsics are resolved as they go, and every resource ends in one
of three states, all reported at start-up:

- ``created``: the AWS API created it and it behaves as in AWS;
- ``emulated``: the local cloud provides it another way (the HTTP API server, the MQTT bridge,
  the local token issuer, the SQS poller) and says how;
- ``unsupported``: nothing here can provide it; deploying fails unless it is explicitly allowed.
"""

from __future__ import annotations

import graphlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.intrinsics import Resolver, TemplateError, references
from localcloud.template import Artifact, load_template, package, parameter_values, transform

log = logging.getLogger("localcloud.deployer")

ACCOUNT_ID = "123456789012"


@dataclass
class Resource:
    """One resource of the deployed stack."""

    logical_id: str
    type: str
    physical_id: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "created"  # created | emulated | unsupported
    note: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stack:
    """What a deployment produced: resources by logical id, outputs, the transformed template."""

    name: str
    region: str
    account_id: str
    template: dict[str, Any]
    resources: dict[str, Resource]
    outputs: dict[str, Any]
    artifacts: dict[str, Artifact]
    seconds: float = 0.0

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id].physical_id

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.resources[logical_id].attributes[name]

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == resource_type]

    def report(self) -> list[str]:
        """One line per resource that is not simply created, for the start-up banner."""
        lines = []
        for r in self.resources.values():
            if r.status != "created" or r.note:
                lines.append(f"{r.status:>11}  {r.logical_id} ({r.type}): {r.note}")
        return lines


def _name(stack: str, logical_id: str, limit: int) -> str:
    """A CloudFormation-style physical name: stack, logical id and a random suffix."""
    suffix = secrets.token_hex(4).upper()
    base = f"{stack}-{logical_id}"[: limit - len(suffix) - 1]
    return f"{base}-{suffix}"


class Deployer:
    """Creates the resources of one stack with boto3 clients of the local cloud."""

    def __init__(
        self,
        session: Any,
        *,
        stack_name: str,
        root: Path,
        region: str,
        endpoint_url: str | None = None,
        allow_unsupported: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.session = session
        self.stack_name = stack_name
        self.root = root
        self.region = region
        self.endpoint_url = endpoint_url
        self.allow_unsupported = allow_unsupported
        self.cache_dir = cache_dir
        self._clients: dict[str, Any] = {}
        self._creators: dict[str, Callable[[Resource], None]] = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::IAM::Role": self._iam_role,
            "AWS::SQS::Queue": self._sqs_queue,
            "AWS::SQS::QueuePolicy": self._attached_policy,
            "AWS::SNS::Topic": self._sns_topic,
            "AWS::SNS::Subscription": self._sns_subscription,
            "AWS::SNS::TopicPolicy": self._attached_policy,
            "AWS::DynamoDB::Table": self._dynamodb_table,
            "AWS::S3::Bucket": self._s3_bucket,
            "AWS::S3::BucketPolicy": self._s3_bucket_policy,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Athena::WorkGroup": self._athena_workgroup,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::Lambda::LayerVersion": self._lambda_layer,
            "AWS::Lambda::Function": self._lambda_function,
            "AWS::Lambda::Permission": self._lambda_permission,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::Lambda::EventInvokeConfig": self._event_invoke_config,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGateway::Deployment": self._api_emulated,
            "AWS::ApiGateway::Stage": self._api_emulated,
            "AWS::ApiGateway::Account": self._apigateway_account,
            "AWS::WAFv2::WebACL": self._wafv2_web_acl,
            "AWS::WAFv2::WebACLAssociation": self._wafv2_web_acl_association,
            "AWS::IoT::TopicRule": self._topic_rule,
            "AWS::IoT::Policy": self._iot_policy,
            "AWS::Events::Rule": self._events_rule,
            "AWS::CloudWatch::Alarm": self._cloudwatch_alarm,
            "AWS::Scheduler::Schedule": self._scheduler_schedule,
            "AWS::Glue::Database": self._glue_database,
        }

    # ------------------------------------------------------------------ public
    def deploy(
        self,
        template_path: Path,
        parameters: dict[str, Any] | None = None,
        *,
        local_defaults: dict[str, Any] | None = None,
    ) -> Stack:
        """Package, transform and create every resource of ``template_path``.

        ``local_defaults`` are parameter values used instead of the template's defaults, for
        the parameters the template declares; ``parameters`` win over both.
        """
        started = time.perf_counter()
        source = load_template(template_path)
        declared = source.get("Parameters", {})
        parameters = {
            **{k: v for k, v in (local_defaults or {}).items() if k in declared},
            **(parameters or {}),
        }
        bucket = f"{self.stack_name.lower()}-deployment-artifacts"
        self.client("s3").create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
        )
        packaged, artifacts = package(source, self.root, self.client("s3"), bucket)
        params = parameter_values(source, parameters or {})
        cfn = transform(packaged, params, self.region, self.cache_dir)

        stack = Stack(self.stack_name, self.region, ACCOUNT_ID, cfn, {}, {}, artifacts)
        self._stack = stack
        resolver = Resolver(
            parameters=typed_parameters(source, params),
            pseudo={
                "AWS::Region": self.region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::StackName": self.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/"
                f"{self.stack_name}/local",
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NotificationARNs": [],
            },
            ref=lambda name: self._ref(stack, name),
            get_att=lambda name, attr: self._get_att(stack, name, attr),
            conditions=cfn.get("Conditions"),
            mappings=cfn.get("Mappings"),
        )
        self._resolver = resolver
        resources = cfn["Resources"]
        order = graphlib.TopologicalSorter(
            {
                name: (references(spec.get("Properties", {})) | set(_depends_on(spec)))
                & resources.keys()
                for name, spec in resources.items()
            }
        ).static_order()
        unsupported = []
        for logical_id in order:
            spec = resources[logical_id]
            if "Condition" in spec and not resolver.condition(spec["Condition"]):
                continue
            resource = Resource(logical_id, spec["Type"])
            resource.properties = resolver.resolve(spec.get("Properties", {}))
            creator = self._creators.get(resource.type)
            if creator is None:
                resource.status = "unsupported"
                resource.note = "no local emulation for this resource type"
                unsupported.append(resource)
            else:
                creator(resource)
            stack.resources[logical_id] = resource
        if unsupported and not self.allow_unsupported:
            names = ", ".join(f"{r.logical_id} ({r.type})" for r in unsupported)
            raise TemplateError(f"the local cloud cannot provide: {names}")
        stack.outputs = {
            name: resolver.resolve(out["Value"])
            for name, out in cfn.get("Outputs", {}).items()
            if "Condition" not in out or resolver.condition(out["Condition"])
        }
        stack.seconds = time.perf_counter() - started
        return stack

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._clients[service]

    # ------------------------------------------------------------------ resolution
    def _ref(self, stack: Stack, name: str) -> Any:
        if name not in stack.resources:
            raise TemplateError(f"Ref to {name}, which is not a parameter or a created resource")
        return stack.resources[name].physical_id

    def _get_att(self, stack: Stack, name: str, attribute: str) -> Any:
        resource = stack.resources.get(name)
        if resource is None:
            raise TemplateError(f"Fn::GetAtt {name}.{attribute}: no such resource (yet)")
        if attribute not in resource.attributes:
            raise TemplateError(
                f"Fn::GetAtt {name}.{attribute}: {resource.type} has no attribute {attribute} "
                "in the local cloud"
            )
        return resource.attributes[attribute]

    def _arn(self, service: str, rest: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{rest}"

    # ------------------------------------------------------------------ creators
    def _kms_key(self, r: Resource) -> None:
        p = r.properties
        args: dict[str, Any] = {
            "Description": p.get("Description", ""),
            "KeyUsage": p.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "KeySpec": p.get("KeySpec", "SYMMETRIC_DEFAULT"),
        }
        if "KeyPolicy" in p:
            args["Policy"] = json.dumps(p["KeyPolicy"])
        meta = self.client("kms").create_key(**args)["KeyMetadata"]
        if p.get("EnableKeyRotation"):
            self.client("kms").enable_key_rotation(KeyId=meta["KeyId"])
        r.physical_id = meta["KeyId"]
        r.attributes = {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}

    def _kms_alias(self, r: Resource) -> None:
        p = r.properties
        self.client("kms").create_alias(AliasName=p["AliasName"], TargetKeyId=p["TargetKeyId"])
        r.physical_id = p["AliasName"]

    def _iam_role(self, r: Resource) -> None:
        p = r.properties
        iam = self.client("iam")
        name = p.get("RoleName") or _name(self.stack_name, r.logical_id, 64)
        role = iam.create_role(
            RoleName=name,
            Path=p.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
        )["Role"]
        for policy in p.get("Policies", []):
            # SAM's policy templates omit Version, which IAM accepts and moto does not.
            document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
            )
        skipped = []
        for arn in p.get("ManagedPolicyArns", []):
            try:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException:
                skipped.append(arn.rsplit("/", 1)[-1])
        if skipped:
            r.note = "AWS managed policies unknown to moto, not attached: " + ", ".join(skipped)
        r.physical_id = name
        r.attributes = {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def _sqs_queue(self, r: Resource) -> None:
        p = dict(r.properties)
        fifo = bool(p.get("FifoQueue"))
        name = p.pop("QueueName", None) or _name(self.stack_name, r.logical_id, 75) + (
            ".fifo" if fifo else ""
        )
        attributes = {}
        for key, value in p.items():
            if key == "Tags":
                continue
            if key == "RedrivePolicy":
                value = json.dumps(value)
            elif isinstance(value, bool):
                value = str(value).lower()
            attributes[key] = str(value)
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        r.physical_id = url
        r.attributes = {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _sns_topic(self, r: Resource) -> None:
        p = r.properties
        name = p.get("TopicName") or _name(self.stack_name, r.logical_id, 256)
        attributes = {
            k: str(p[k]) for k in ("DisplayName", "KmsMasterKeyId", "FifoTopic") if k in p
        }
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for sub in p.get("Subscription", []):
            self.client("sns").subscribe(
                TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"]
            )
        r.physical_id = arn
        r.attributes = {"TopicArn": arn, "TopicName": name}

    def _sns_subscription(self, r: Resource) -> None:
        p = r.properties
        attributes: dict[str, str] = {}
        for key in ("FilterPolicy", "RedrivePolicy"):
            if key in p:
                attributes[key] = json.dumps(p[key])
        if "FilterPolicyScope" in p:
            attributes["FilterPolicyScope"] = p["FilterPolicyScope"]
        if p.get("RawMessageDelivery"):
            attributes["RawMessageDelivery"] = "true"
        arn = self.client("sns").subscribe(
            TopicArn=p["TopicArn"],
            Protocol=p["Protocol"],
            Endpoint=p["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        r.physical_id = arn

    def _attached_policy(self, r: Resource) -> None:
        r.status = "emulated"
        r.physical_id = _name(self.stack_name, r.logical_id, 64)
        r.note = "resource policy accepted; moto does not enforce resource policies"

    def _dynamodb_table(self, r: Resource) -> None:
        p = r.properties
        name = p.get("TableName") or _name(self.stack_name, r.logical_id, 255)
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        for key in (
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "ProvisionedThroughput",
        ):
            if key in p:
                args[key] = p[key]
        if "StreamSpecification" in p:
            # CloudFormation names only the view type; the API wants the stream enabled too.
            args["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        sse = p.get("SSESpecification")
        if sse:
            args["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled")),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        dynamodb = self.client("dynamodb")
        table = dynamodb.create_table(**args)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        r.physical_id = name
        r.attributes = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            r.attributes["StreamArn"] = table["LatestStreamArn"]

    def _s3_bucket(self, r: Resource) -> None:
        p = r.properties
        name = (p.get("BucketName") or _name(self.stack_name, r.logical_id, 63)).lower()
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if "BucketEncryption" in p:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        # CloudFormation's ServerSideEncryptionByDefault is the API's
                        # ApplyServerSideEncryptionByDefault.
                        {
                            (
                                "ApplyServerSideEncryptionByDefault"
                                if k == "ServerSideEncryptionByDefault"
                                else k
                            ): v
                            for k, v in rule.items()
                        }
                        for rule in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in p:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"]
            )
        if "VersioningConfiguration" in p:
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration=p["VersioningConfiguration"]
            )
        if "OwnershipControls" in p:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=p["OwnershipControls"])
        if "LifecycleConfiguration" in p:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration=s3_lifecycle_configuration(p["LifecycleConfiguration"]),
            )
        logging_config = p.get("LoggingConfiguration")
        if logging_config:
            # moto checks that the target bucket's policy lets S3's log delivery write, as S3
            # does, but delivers no log: the note says so.
            enabled = {"TargetBucket": logging_config["DestinationBucketName"]}
            enabled["TargetPrefix"] = logging_config.get("LogFilePrefix", "")
            s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": enabled})
            r.note = "server access logging configured; moto writes no access log locally"
        notifications = p.get("NotificationConfiguration")
        if notifications:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=s3_notification_configuration(notifications)
            )
        r.physical_id = name
        r.attributes = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }

    def _glue_database(self, r: Resource) -> None:
        database = dict(r.properties["DatabaseInput"])
        self.client("glue").create_database(DatabaseInput=database)
        r.physical_id = database["Name"]

    def _s3_bucket_policy(self, r: Resource) -> None:
        p = r.properties
        self.client("s3").put_bucket_policy(
            Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"])
        )
        r.physical_id = _name(self.stack_name, r.logical_id, 64)
        r.note = "stored; moto does not enforce bucket policies"

    def _log_group(self, r: Resource) -> None:
        p = r.properties
        name = p.get("LogGroupName") or _name(self.stack_name, r.logical_id, 512)
        logs = self.client("logs")
        if "KmsKeyId" in p:
            logs.create_log_group(logGroupName=name, kmsKeyId=p["KmsKeyId"])
        else:
            logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in p:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
        r.physical_id = name
        r.attributes = {"Arn": self._arn("logs", f"log-group:{name}:*")}

    def _athena_workgroup(self, r: Resource) -> None:
        # Nothing here runs Athena SQL: the local cloud's Data Dam queries run on DuckDB
        # (DATADAM_QUERY_ENGINE=duckdb, set by LocalCloud), and moto 5.2's Athena answers
        # "Not yet implemented" to this botocore's CreateWorkGroup. The name is kept for the
        # functions' environment.
        r.physical_id = str(r.properties["Name"])
        r.status = "emulated"
        r.note = "queries run on DuckDB locally (gyeonggi.datadam.duckdb_engine)"

    def _ssm_parameter(self, r: Resource) -> None:
        p = r.properties
        name = p.get("Name") or f"/{self.stack_name}/{r.logical_id}"
        self.client("ssm").put_parameter(
            Name=name, Value=str(p["Value"]), Type=p.get("Type", "String"), Overwrite=True
        )
        r.physical_id = name
        r.attributes = {"Type": p.get("Type", "String"), "Value": p["Value"]}

    def _lambda_layer(self, r: Resource) -> None:
        p = r.properties
        name = p.get("LayerName") or _name(self.stack_name, r.logical_id, 64)
        layer = self.client("lambda").publish_layer_version(
            LayerName=name,
            Description=p.get("Description", ""),
            Content=p["Content"],
            CompatibleRuntimes=p.get("CompatibleRuntimes", []),
        )
        r.physical_id = layer["LayerVersionArn"]
        r.note = "its package runs from this checkout's installed `gyeonggi` package"

    def _lambda_function(self, r: Resource) -> None:
        p = r.properties
        name = p.get("FunctionName") or _name(self.stack_name, r.logical_id, 64)
        args: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": p.get("Runtime", "python3.12"),
            "Role": p["Role"],
            "Handler": p["Handler"],
            "Code": p["Code"],
            "Timeout": int(p.get("Timeout", 3)),
            "MemorySize": int(p.get("MemorySize", 128)),
            "Environment": p.get("Environment", {"Variables": {}}),
            "Layers": p.get("Layers", []),
            "Architectures": p.get("Architectures", ["x86_64"]),
        }
        for key in ("Description", "TracingConfig", "DeadLetterConfig"):
            if key in p:
                args[key] = p[key]
        fn = self.client("lambda").create_function(**args)
        r.physical_id = name
        r.attributes = {"Arn": fn["FunctionArn"]}

    def _lambda_permission(self, r: Resource) -> None:
        p = r.properties
        args = {
            "FunctionName": p["FunctionName"],
            "StatementId": r.logical_id,
            "Action": p["Action"],
            "Principal": p["Principal"],
        }
        for key in ("SourceArn", "SourceAccount"):
            if key in p:
                args[key] = p[key]
        self.client("lambda").add_permission(**args)
        r.physical_id = f"{r.logical_id}-{secrets.token_hex(4)}"

    def _event_invoke_config(self, r: Resource) -> None:
        r.physical_id = f"{r.properties['FunctionName']}:{r.properties.get('Qualifier', '$LATEST')}"
        r.status = "emulated"
        r.note = (
            "MaximumRetryAttempts and OnFailure destinations (SQS) honoured by the local "
            "runner; OnSuccess destinations and MaximumEventAgeInSeconds are not"
        )

    def _event_source_mapping(self, r: Resource) -> None:
        p = r.properties
        if ":dynamodb:" in p["EventSourceArn"]:
            # Not registered with moto's Lambda backend: it would invoke the function inside
            # the table write, synchronously, and deadlock the in-process runner. The local
            # cloud's stream poller (localcloud.stream_sources) runs the mapping instead.
            r.physical_id = str(uuid.uuid4())
            r.status = "emulated"
            r.note = (
                "polled by the local cloud (starting position, batch size, batching window, "
                "ReportBatchItemFailures, bisection, retries and the OnFailure queue honoured)"
            )
            return
        args: dict[str, Any] = {
            "EventSourceArn": p["EventSourceArn"],
            "FunctionName": p["FunctionName"],
            "Enabled": p.get("Enabled", True),
        }
        for key in (
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "FunctionResponseTypes",
            "ScalingConfig",
            "StartingPosition",
        ):
            if key in p:
                args[key] = p[key]
        mapping = self.client("lambda").create_event_source_mapping(**args)
        r.physical_id = mapping["UUID"]
        if ":sqs:" in p["EventSourceArn"]:
            _disable_moto_sqs_trigger(p["EventSourceArn"], self.region)
            r.status = "emulated"
            r.note = (
                "polled by the local cloud (batch size, batching window and "
                "ReportBatchItemFailures honoured)"
            )

    def _state_machine(self, r: Resource) -> None:
        p = r.properties
        if "DefinitionS3Location" in p:
            loc = p["DefinitionS3Location"]
            body = self.client("s3").get_object(Bucket=loc["Bucket"], Key=loc["Key"])["Body"]
            definition = body.read().decode("utf-8")
        elif "DefinitionString" in p:
            definition = p["DefinitionString"]
        else:
            definition = json.dumps(p["Definition"])
        for key, value in p.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        leftover = re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition)
        if leftover:
            raise TemplateError(f"{r.logical_id}: no DefinitionSubstitutions for {leftover}")
        name = p.get("StateMachineName") or _name(self.stack_name, r.logical_id, 80)
        args: dict[str, Any] = {
            "name": name,
            "definition": definition,
            "roleArn": p["RoleArn"],
            "type": p.get("StateMachineType", "STANDARD"),
        }
        if "LoggingConfiguration" in p:
            lc = p["LoggingConfiguration"]
            args["loggingConfiguration"] = {
                "level": lc.get("Level", "OFF"),
                "includeExecutionData": bool(lc.get("IncludeExecutionData")),
                "destinations": [
                    {
                        "cloudWatchLogsLogGroup": {
                            "logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]
                        }
                    }
                    for d in lc.get("Destinations", [])
                ],
            }
        if "TracingConfiguration" in p:
            args["tracingConfiguration"] = {"enabled": bool(p["TracingConfiguration"]["Enabled"])}
        arn = self.client("stepfunctions").create_state_machine(**args)["stateMachineArn"]
        r.physical_id = arn
        r.attributes = {"Arn": arn, "Name": name}

    def _user_pool(self, r: Resource) -> None:
        # Emulated without moto: the local issuer stands in for the pool (and is much
        # faster to start than moto's Cognito backend).
        pool_id = f"{self.region}_{secrets.token_hex(5)}"
        r.physical_id = pool_id
        r.attributes = {
            "Arn": self._arn("cognito-idp", f"userpool/{pool_id}"),
            "ProviderName": f"cognito-idp.{self.region}.amazonaws.com/{pool_id}",
            "ProviderURL": f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}",
        }
        r.status = "emulated"
        r.note = (
            "tokens come from the local issuer (keys generated at start-up); functions' "
            "AUTH_ISSUER and AUTH_JWKS_URL point to it"
        )

    def _user_pool_client(self, r: Resource) -> None:
        client_id = secrets.token_hex(13)
        r.physical_id = client_id
        r.attributes = {"ClientId": client_id}
        r.status = "emulated"
        r.note = "its id is the local issuer's audience"

    def _user_pool_group(self, r: Resource) -> None:
        r.physical_id = r.properties["GroupName"]
        r.status = "emulated"
        r.note = "a role the local issuer can put in cognito:groups"

    def _rest_api(self, r: Resource) -> None:
        r.physical_id = secrets.token_hex(5)
        r.attributes = {"RootResourceId": secrets.token_hex(5)}
        r.status = "emulated"
        r.note = "routes served by the local API server from this API's paths"

    def _api_emulated(self, r: Resource) -> None:
        r.physical_id = r.properties.get("StageName") or _name(self.stack_name, r.logical_id, 32)
        r.status = "emulated"
        r.note = "served by the local API server"
        if "AccessLogSetting" in r.properties:
            r.note += "; its access log is not written locally (the server logs requests itself)"

    def _apigateway_account(self, r: Resource) -> None:
        role = r.properties.get("CloudWatchRoleArn")
        if role:
            self.client("apigateway").update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )
        r.physical_id = f"{ACCOUNT_ID}-{self.region}"
        r.note = "the account's CloudWatch role is set in moto; nothing logs through it locally"

    def _wafv2_web_acl(self, r: Resource) -> None:
        p = r.properties
        name = p.get("Name") or _name(self.stack_name, r.logical_id, 128)
        args: dict[str, Any] = {
            "Name": name,
            "Scope": p["Scope"],
            "DefaultAction": p["DefaultAction"],
            "VisibilityConfig": p["VisibilityConfig"],
            "Rules": wafv2_rules(p.get("Rules", [])),
        }
        for key in ("Description", "CustomResponseBodies"):
            if key in p:
                args[key] = p[key]
        summary = self.client("wafv2").create_web_acl(**args)["Summary"]
        r.physical_id = f"{name}|{summary['Id']}|{p['Scope']}"
        r.attributes = {"Arn": summary["ARN"], "Id": summary["Id"]}
        r.note = "stored in moto; the local API server applies no WAF rule (no rate limit locally)"

    def _wafv2_web_acl_association(self, r: Resource) -> None:
        p = r.properties
        self.client("wafv2").associate_web_acl(
            WebACLArn=p["WebACLArn"], ResourceArn=p["ResourceArn"]
        )
        r.physical_id = f"{p['WebACLArn']}|{p['ResourceArn']}"
        r.note = "recorded in moto; the local API server applies no WAF rule"

    def _iot_policy(self, r: Resource) -> None:
        p = r.properties
        name = p.get("PolicyName") or _name(self.stack_name, r.logical_id, 128)
        made = self.client("iot").create_policy(
            policyName=name, policyDocument=json.dumps(p["PolicyDocument"])
        )
        r.physical_id = name
        r.attributes = {"Arn": made["policyArn"]}
        r.note = "stored; the local broker takes any client (policies are not enforced)"

    def _topic_rule(self, r: Resource) -> None:
        p = r.properties
        name = p.get("RuleName") or re.sub(
            r"[^A-Za-z0-9_]", "_", f"{self.stack_name}_{r.logical_id}"
        )
        r.physical_id = name
        r.attributes = {"Arn": self._arn("iot", f"rule/{name}")}
        r.status = "emulated"
        r.note = "evaluated by the local MQTT bridge (moto never evaluates IoT rules)"

    def _events_rule(self, r: Resource) -> None:
        p = r.properties
        name = p.get("Name") or _name(self.stack_name, r.logical_id, 64)
        events = self.client("events")
        args: dict[str, Any] = {"Name": name, "State": p.get("State", "ENABLED")}
        for key in ("ScheduleExpression", "Description"):
            if key in p:
                args[key] = p[key]
        if "EventPattern" in p:
            args["EventPattern"] = json.dumps(p["EventPattern"])
        arn = events.put_rule(**args)["RuleArn"]
        targets = [
            {
                k: (json.dumps(v) if k == "Input" and not isinstance(v, str) else v)
                for k, v in t.items()
                if k in {"Id", "Arn", "Input", "RoleArn"}
            }
            for t in p.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, Targets=targets)
        r.physical_id = name
        r.attributes = {"Arn": arn}
        if "ScheduleExpression" in p:
            r.status = "emulated"
            r.note = "schedules do not fire locally; run the target with `gyeonggi local invoke ID`"

    def _cloudwatch_alarm(self, r: Resource) -> None:
        p = r.properties
        name = p.get("AlarmName") or _name(self.stack_name, r.logical_id, 255)
        args: dict[str, Any] = {"AlarmName": name}
        for key in (
            "AlarmDescription",
            "Namespace",
            "MetricName",
            "Dimensions",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "AlarmActions",
        ):
            if key in p:
                args[key] = p[key]
        self.client("cloudwatch").put_metric_alarm(**args)
        r.physical_id = name
        r.attributes = {"Arn": self._arn("cloudwatch", f"alarm:{name}")}
        r.status = "emulated"
        r.note = "stored, never evaluated locally: watch the queue itself"

    def _scheduler_schedule(self, r: Resource) -> None:
        r.physical_id = r.properties.get("Name") or _name(self.stack_name, r.logical_id, 64)
        r.attributes = {"Arn": self._arn("scheduler", f"schedule/default/{r.physical_id}")}
        r.status = "emulated"
        r.note = "schedules do not fire locally; run the target with `gyeonggi local invoke ID`"


def _depends_on(spec: dict[str, Any]) -> list[str]:
    depends = spec.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


# CloudFormation's S3 notification keys, and the S3 API's for the same thing.
_S3_TARGETS = {
    "LambdaConfigurations": ("LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
    "QueueConfigurations": ("QueueConfigurations", "Queue", "QueueArn"),
    "TopicConfigurations": ("TopicConfigurations", "Topic", "TopicArn"),
}


def s3_notification_configuration(cfn: dict[str, Any]) -> dict[str, Any]:
    """A bucket's ``NotificationConfiguration`` as CloudFormation writes it, for the S3 API."""
    out: dict[str, Any] = {}
    for cfn_key, configs in cfn.items():
        if cfn_key not in _S3_TARGETS:
            raise TemplateError(f"S3 NotificationConfiguration.{cfn_key} is not supported locally")
        api_key, target, api_target = _S3_TARGETS[cfn_key]
        converted = []
        for config in configs:
            entry: dict[str, Any] = {api_target: config[target], "Events": [config["Event"]]}
            if "Filter" in config:
                entry["Filter"] = {"Key": {"FilterRules": config["Filter"]["S3Key"]["Rules"]}}
            converted.append(entry)
        out[api_key] = converted
    return out


def s3_lifecycle_configuration(cfn: dict[str, Any]) -> dict[str, Any]:
    """A bucket's ``LifecycleConfiguration`` as CloudFormation writes it, for the S3 API."""
    rules = []
    for rule in cfn["Rules"]:
        unknown = set(rule) - {
            "Id",
            "Status",
            "Prefix",
            "ExpirationInDays",
            "NoncurrentVersionExpiration",
        }
        if unknown:
            raise TemplateError(f"S3 lifecycle rule keys not supported locally: {sorted(unknown)}")
        out: dict[str, Any] = {
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "Id" in rule:
            out["ID"] = rule["Id"]
        if "ExpirationInDays" in rule:
            out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "NoncurrentVersionExpiration" in rule:
            days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
        rules.append(out)
    return {"Rules": rules}


def wafv2_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules with the integers the WAF API wants (a ``Ref`` to a Number parameter may be a
    string, as CloudFormation passes every parameter)."""
    converted = json.loads(json.dumps(rules))
    for rule in converted:
        rule["Priority"] = int(rule["Priority"])
        rate = rule.get("Statement", {}).get("RateBasedStatement")
        if rate:
            for key in ("Limit", "EvaluationWindowSec"):
                if key in rate:
                    rate[key] = int(rate[key])
    return converted


def _disable_moto_sqs_trigger(queue_arn: str, region: str) -> None:
    """moto invokes SQS-mapped functions itself, one message at a time, on every send; the
    local cloud's poller does it as Lambda does instead, so moto's shortcut is removed."""
    from moto.sqs.models import sqs_backends

    queue_name = queue_arn.rsplit(":", 1)[-1]
    backend = sqs_backends[ACCOUNT_ID][region]
    queue = backend.queues.get(queue_name)
    if queue is not None:
        queue.lambda_event_source_mappings.clear()


def typed_parameters(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Parameter values as intrinsics see them: a ``CommaDelimitedList`` is a list of strings
    (``Ref`` gives the list, ``Fn::Join`` joins it), as CloudFormation splits it."""
    typed = dict(values)
    for name, spec in template.get("Parameters", {}).items():
        value = typed.get(name)
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            typed[name] = [item.strip() for item in value.split(",")]
    return typed
