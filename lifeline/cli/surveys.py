"""`lifeline survey`: the questions of the customer and representative exit surveys."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.orm import Session

from lifeline.cli.base import CliError, Commands, data_dir_and_json, emit, with_db
from lifeline.surveys import actions as surveys
from lifeline.surveys.actions import QuestionType, SurveyKind
from lifeline.surveys.models import SurveyQuestion


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("survey", help="exit survey questions")
    parser.set_defaults(run=run)
    survey = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = survey.add_parser("add", help="add a question to the customer or representative exit survey")
    add.add_argument("survey", choices=[k.value for k in SurveyKind])
    add.add_argument("--name", required=True, help="the question's name (reports and integrations see it)")
    add.add_argument("--label", required=True, help="the question as people read it")
    add.add_argument("--type", required=True, choices=[t.value for t in QuestionType], dest="question_type")
    add.add_argument("--option", action="append", default=[], help="an answer to choose (radio, checkbox, select)")
    add.add_argument("--report-header", default="")
    change = survey.add_parser("set", help="change a question (give every field, as for add)")
    change.add_argument("question_id", type=int, metavar="ID")
    change.add_argument("--name", required=True)
    change.add_argument("--label", required=True)
    change.add_argument("--type", required=True, choices=[t.value for t in QuestionType], dest="question_type")
    change.add_argument("--option", action="append", default=[])
    change.add_argument("--report-header", default="")
    toggles = []
    for name, what in (("enable", "ask a disabled question again"), ("disable", "stop asking a question")):
        toggle = survey.add_parser(name, help=what)
        toggle.add_argument("question_id", type=int, metavar="ID")
        toggles.append(toggle)
    move = survey.add_parser("move", help="move a question up or down in its survey")
    move.add_argument("question_id", type=int, metavar="ID")
    move.add_argument("offset", type=int, help="places to move: negative is up, positive is down")
    listing = survey.add_parser("list", help="list the questions of both surveys (disabled ones too)")
    data_dir_and_json(add, change, *toggles, move, listing)


def run(args: argparse.Namespace) -> None:
    def record(question: SurveyQuestion) -> dict[str, Any]:
        return {
            "id": question.id,
            "survey": question.survey,
            "name": question.name,
            "label": question.label,
            "type": question.question_type,
            "options": question.options,
            "report_header": question.report_header,
            "enabled": question.enabled,
        }

    def find(session: Session) -> SurveyQuestion:
        question = session.get(SurveyQuestion, args.question_id)
        if question is None:
            raise CliError(f"no survey question with id {args.question_id}")
        return question

    fields: dict[str, Any] = {}
    if args.action in ("add", "set"):
        fields = {
            "name": args.name,
            "label": args.label,
            "question_type": QuestionType(args.question_type),
            "report_header": args.report_header,
            "options": args.option,
        }
    if args.action == "add":
        created = with_db(args, lambda s: record(surveys.add_question(s, SurveyKind(args.survey), **fields)))
        emit(args, created, f"Added question {created['id']} to the {created['survey']} exit survey")
        return
    if args.action in ("set", "enable", "disable", "move"):

        def change(session: Session) -> dict[str, Any]:
            question = find(session)
            if args.action == "set":
                surveys.update_question(session, question, **fields)
            elif args.action == "move":
                surveys.move_question(session, question, args.offset)
            else:
                surveys.set_question_enabled(session, question, args.action == "enable")
            return record(question)

        changed = with_db(args, change)
        emit(args, changed, f"Changed question {changed['id']} of the {changed['survey']} exit survey")
        return
    listed = with_db(args, lambda s: [record(q) for kind in SurveyKind for q in surveys.all_questions(s, kind)])
    emit(
        args,
        listed,
        "\n".join(
            f"{q['id']:>5}  {q['survey']:<15} {q['name']}: {q['label']}{'' if q['enabled'] else ' (disabled)'}"
            for q in listed
        ),
    )
