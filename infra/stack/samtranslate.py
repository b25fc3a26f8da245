#!/usr/bin/env python3
"""Translates template.yaml with the AWS SAM translator (the library cfn-lint
and `sam deploy` use) and prints the CloudFormation template as JSON.

    python3 infra/stack/samtranslate.py template.yaml [Name=Value ...]

The translation is what CloudFormation receives: Conditions are kept, not
evaluated (infra/stack's tests evaluate them per stage). Nothing is fetched:
the template uses no managed policy by name, so the policy loader is empty.
"""
import json
import os
import sys

from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


def main():
    # The Region SAM builds ARNs for (as cfn-lint sets it): no AWS profile needed.
    ArnGenerator.BOTO_SESSION_REGION_NAME = "eu-west-3"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    with open(sys.argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # `sam package` uploads each function's build and puts its S3 URI here.
    for name, res in template.get("Resources", {}).items():
        if res.get("Type") == "AWS::Serverless::Function":
            res.setdefault("Properties", {})["CodeUri"] = "s3://modupay-artifacts/" + name + ".zip"
    params = {"AWS::Region": "eu-west-3", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    for arg in sys.argv[2:]:
        name, _, value = arg.partition("=")
        params[name] = value
    out = transform(template, params, NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
