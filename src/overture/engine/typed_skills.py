"""Typed skills: handlers whose inputs and output are pydantic models the engine validates.

    @skill("detect-intents")
    def detect(ctx: StepContext, transcript: Transcript) -> Intents: ...

A step's ``with`` mapping is validated into the input model before the function runs, and what
it returns is validated against the output model and stored as JSON, so a wrong shape fails the
step with the field that is wrong instead of a ``KeyError`` three steps later. In the registry a
typed skill is an ordinary ``(ctx, inputs)`` handler under its string key (``uses: skill:KEY``);
the decorated function itself is left as written, so a test can call it with models.

The decorator only marks the function: the pack loader registers every marked function of a
pack's module, and ``registry.add(fn)`` registers one by hand. ``registry.skill(KEY)`` accepts a
typed function too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel, ValidationError

from overture.core.step_context import StepContext
from overture.errors import SequenceFileError, ValidationFailed
from overture.sequences import StepKind

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute a decorated function carries its spec under.
MARK = "__overture_typed__"
#: What an untyped handler's second parameter may be annotated as.
_PLAIN = ("dict", "Mapping", "MutableMapping", "Any", "object")


@dataclass(frozen=True)
class TypedHandler:
    """A typed function with the models its step's inputs and output are checked against."""

    kind: StepKind
    key: str
    fn: Callable[..., Any]
    inputs: type[BaseModel]
    output: type[BaseModel]
    gate: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.key}"

    def step_fn(self) -> Callable[[StepContext, dict[str, Any]], Any]:
        """The ``(ctx, inputs)`` handler the runner calls: validate in, call, validate out."""
        if inspect.iscoroutinefunction(self.fn):

            async def run_async(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
                return self.dump(await self.fn(ctx, self.load(inputs)))

            run_async.__doc__ = self.fn.__doc__
            setattr(run_async, MARK, self)
            return run_async

        def run(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
            return self.dump(self.fn(ctx, self.load(inputs)))

        run.__doc__ = self.fn.__doc__
        setattr(run, MARK, self)
        return run

    def load(self, inputs: dict[str, Any]) -> BaseModel:
        try:
            return self.inputs.model_validate(dict(inputs))
        except ValidationError as exc:
            raise ValidationFailed(f"{self.label}: inputs {_problems(exc, self.inputs)}") from None

    def dump(self, result: Any) -> dict[str, Any]:
        model: BaseModel
        if isinstance(result, self.output):
            model = result
        else:
            if isinstance(result, BaseModel) or not isinstance(result, dict):
                got = type(result).__name__
                raise ValidationFailed(f"{self.label}: returned {got}, expected {self.output.__name__}")
            try:
                model = self.output.model_validate(result)
            except ValidationError as exc:
                raise ValidationFailed(f"{self.label}: output {_problems(exc, self.output)}") from None
        return model.model_dump(mode="json")


def _problems(exc: ValidationError, model: type[BaseModel]) -> str:
    """``do not match Transcript: segments.0.speaker: Field required; ...`` without the values."""
    found = [f"{'.'.join(str(p) for p in e['loc']) or '(all)'}: {e['msg']}" for e in exc.errors()]
    return f"do not match {model.__name__}: " + "; ".join(found)


def skill(key: str, *, gate: str | None = None) -> Callable[[F], F]:
    """Mark a typed skill for ``uses: skill:KEY``; ``gate`` as for ``Registry.skill``."""
    return _marker(StepKind.SKILL, key, gate)


def function(name: str, *, gate: str | None = None) -> Callable[[F], F]:
    """Mark a typed adapter function for ``uses: function:NAME``."""
    return _marker(StepKind.FUNCTION, name, gate)


def _marker(kind: StepKind, key: str, gate: str | None) -> Callable[[F], F]:
    def deco(fn: F) -> F:
        spec = typed_handler(kind, key, fn, gate)
        if spec is None:
            where, line = source_of(fn)
            problem = "a typed skill takes (ctx: StepContext, inputs: SomeModel) with pydantic models"
            raise SequenceFileError(where, line, f"{kind.value}:{key}", problem)
        setattr(fn, MARK, spec)
        return fn

    return deco


def marked(value: Any) -> TypedHandler | None:
    """The spec a decorated function carries, if any."""
    spec = getattr(value, MARK, None)
    return spec if isinstance(spec, TypedHandler) else None


def source_of(fn: Callable[..., Any]) -> tuple[str, int | None]:
    """Where a handler is defined, for errors that point at it."""
    target = inspect.unwrap(getattr(fn, "func", fn))
    try:
        path = inspect.getsourcefile(target) or "(unknown file)"
    except TypeError:
        return "(unknown file)", None
    code = getattr(target, "__code__", None)
    return path, (code.co_firstlineno if code is not None else None)


def signature_problem(fn: Callable[..., Any]) -> str | None:
    """Why the runner could not call ``fn(ctx, inputs)``, or None when it can."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(None, {})
    except TypeError:
        shown = sig.replace(return_annotation=inspect.Signature.empty)
        return (
            f"a handler is called as fn(ctx, inputs) with two positional arguments "
            f"(ctx: StepContext, inputs: dict); this one takes {shown}"
        )
    return None


def typed_handler(kind: StepKind, key: str, fn: Callable[..., Any], gate: str | None) -> TypedHandler | None:
    """The typed spec of ``fn`` when its second parameter is a pydantic model, else None.

    Raises SequenceFileError (at the function's line) when the hints say "typed" but are
    unusable: a name that cannot be resolved, or an output that is not a model.
    """
    already = marked(fn)
    if already is not None:
        return already
    params = _positional(fn)
    if params is None or len(params) != 2:
        return None
    where, line = source_of(fn)
    field = f"{kind.value}:{key}"
    raw = params[1].annotation
    if isinstance(raw, str):
        if raw.split("[")[0].strip().rpartition(".")[2] in _PLAIN:
            return None
    elif not (isinstance(raw, type) and issubclass(raw, BaseModel)):
        return None
    try:
        hints = get_type_hints(fn, localns={"StepContext": StepContext})
    except Exception as exc:
        problem = f"cannot resolve the type hints of {fn.__name__}: {exc}; import the models at module level"
        raise SequenceFileError(where, line, field, problem) from None
    model = hints.get(params[1].name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    output = hints.get("return")
    if not (isinstance(output, type) and issubclass(output, BaseModel)):
        got = getattr(output, "__name__", repr(output)) if output is not None else "no return annotation"
        problem = f"a typed skill returns a pydantic model (-> SomeModel); {fn.__name__} has {got}"
        raise SequenceFileError(where, line, field, problem)
    context = hints.get(params[0].name)
    if context is not None and context is not StepContext:
        problem = f"the first parameter is the StepContext; {fn.__name__} annotates it as {context!r}"
        raise SequenceFileError(where, line, field, problem)
    return TypedHandler(kind, key, fn, model, output, gate)


def _positional(fn: Callable[..., Any]) -> list[inspect.Parameter] | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in sig.parameters.values() if p.kind in kinds]
