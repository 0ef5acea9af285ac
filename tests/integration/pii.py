"""Watches every place PII could leak during an integration test: Powertools log lines,
standard logging, EMF metric blobs (dimensions included), tracer subsegment metadata
and annotations, error bodies, and the idempotency table's keys."""

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch as emf
import boto3
import pytest
from aws_lambda_powertools import Tracer

import finspace_users.aws.observability as observability
from finspace_users.aws.observability import logger
from localdev.harness.directory import FIRST_NAMES, LAST_NAMES
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LOCAL_TABLE_NAME
from tests.conftest import powertools_log_handler

# E-mails are built from these names, so a lower-case match catches them too.
PII_TOKENS = sorted({name.lower() for name in (*FIRST_NAMES, *LAST_NAMES)})


class _Tee(io.TextIOBase):
    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)


class _RecordingSubsegment:
    def __init__(self, sentinel: "PiiSentinel") -> None:
        self.sentinel = sentinel

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.sentinel.seen("tracer metadata", f"{key}={value!r}")

    def put_annotation(self, key: str, value: Any) -> None:
        self.sentinel.seen("tracer annotation", f"{key}={value!r}")

    def add_exception(self, exception: Exception, stack: Any, remote: bool = False) -> None:
        self.sentinel.seen("tracer exception", repr(exception))


class PiiSentinel:
    def __init__(self) -> None:
        self.observed: list[tuple[str, str]] = []

    def seen(self, where: str, text: str) -> None:
        self.observed.append((where, text))

    def leaks(self) -> list[str]:
        return [
            f"{token!r} in {where}: {text[:200]}"
            for where, text in self.observed
            for token in PII_TOKENS
            if token in text.lower()
        ]

    @contextmanager
    def watching(self, monkeypatch: pytest.MonkeyPatch, moto_url: str) -> Iterator["PiiSentinel"]:
        log_buffer = io.StringIO()
        handler = powertools_log_handler()
        original_stream = handler.setStream(_Tee(handler.stream, log_buffer))
        logger.setLevel("DEBUG")  # the dev stage's level: the most there is to leak
        std_capture = io.StringIO()
        std_handler = logging.StreamHandler(std_capture)
        std_handler.setLevel(logging.INFO)
        # The local servers' request lines (werkzeug) echo whatever a caller sent, and
        # the fuzzer replays strings it saw in responses: they are not the service's logs.
        std_handler.addFilter(lambda record: not record.name.startswith("werkzeug"))
        logging.getLogger().addHandler(std_handler)

        def emf_print(text: str, *args: Any, **kwargs: Any) -> None:
            self.seen("EMF metrics", text)
            print(text, *args, **kwargs)

        monkeypatch.setattr(emf, "print", emf_print, raising=False)

        @contextmanager
        def in_subsegment(name: str | None = None, **kwargs: Any) -> Iterator[_RecordingSubsegment]:
            self.seen("tracer subsegment name", str(name))
            yield _RecordingSubsegment(self)

        # Tracing on, into a recorder: what the X-Ray SDK would have been given.
        recording_tracer = Tracer(disabled=True)
        monkeypatch.setattr(recording_tracer.provider, "in_subsegment", in_subsegment)
        monkeypatch.setattr(observability, "tracer", lambda: recording_tracer)
        original_invoke = LocalFunction.invoke

        def invoke(function: LocalFunction, event: Any) -> Any:
            try:
                result = original_invoke(function, event)
            except Exception as error:
                self.seen("function error", str(error))
                raise
            if isinstance(result, dict) and result.get("statusCode", 200) >= 400:
                self.seen("error body", str(result.get("body")))
            return result

        monkeypatch.setattr(LocalFunction, "invoke", invoke)
        try:
            yield self
        finally:
            handler.setStream(original_stream)
            logger.setLevel("INFO")
            logging.getLogger().removeHandler(std_handler)
            self.seen("Powertools log", log_buffer.getvalue())
            self.seen("standard logging", std_capture.getvalue())
            table = boto3.resource("dynamodb", endpoint_url=moto_url).Table(LOCAL_TABLE_NAME)
            for item in table.scan(ProjectionExpression="id")["Items"]:
                self.seen("idempotency key", str(item["id"]))
