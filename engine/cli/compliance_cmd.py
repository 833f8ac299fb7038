"""``compliance check SPEC`` and ``compliance article30 SPEC``."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compliance", help="check compliance rules; GDPR Article 30 record")
    csub = p.add_subparsers(dest="compliance_command", metavar="ACTION")
    csub.required = True
    c = csub.add_parser("check", help="check a pipeline against the frameworks its nodes name")
    c.add_argument("spec", help="pipeline spec file (YAML or JSON)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(handler=cmd_check)
    a = csub.add_parser("article30", help="print the GDPR Article 30 record of processing")
    a.add_argument("spec", help="pipeline spec file (YAML or JSON)")
    a.add_argument("--controller", help="controller name")
    a.add_argument("--contact", help="controller contact")
    a.add_argument("--dpo", help="data protection officer")
    a.add_argument("--data-subjects", help="categories of data subjects (e.g. patients)")
    a.add_argument("--retention", help="retention period of the processed data")
    a.set_defaults(handler=cmd_article30)


def cmd_check(args: argparse.Namespace) -> int:
    from engine.plan.compliance import check
    from engine.spec import load_spec

    report = check(load_spec(args.spec))
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0 if report.ok else 1


def cmd_article30(args: argparse.Namespace) -> int:
    from engine.audit.article30 import article30_record
    from engine.spec import load_spec

    controller = {
        k: v
        for k, v in {
            "name": args.controller,
            "contact": args.contact,
            "dpo": args.dpo,
            "dataSubjects": args.data_subjects,
        }.items()
        if v
    }
    print(
        json.dumps(
            article30_record(load_spec(args.spec), controller=controller, retention=args.retention),
            indent=2,
        )
    )
    return 0
