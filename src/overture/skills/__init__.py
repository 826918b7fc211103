"""Prose-driven skills: a SKILL.md declares in plain words what context it needs; Overture
resolves the date, maps each need to a provider, fulfils them concurrently, loads the result,
runs the prose, and writes the orchestrator summary."""

from overture.skills.context.dates import ResolvedDate, resolve_date
from overture.skills.context.needs import Need, NeedRegistry, NeedType
from overture.skills.environment import SkillEnvironment, build_environment
from overture.skills.orchestrate import SkillRun, run_skill
from overture.skills.prose.llm import OfflineProseModel, ProseModel, ProseResult
from overture.skills.skillfile import SkillFile, SkillFileError, load_skill, load_skill_dir, parse_skill
from overture.skills.step import register_prose_skills

__all__ = [
    "Need",
    "NeedRegistry",
    "NeedType",
    "OfflineProseModel",
    "ProseModel",
    "ProseResult",
    "ResolvedDate",
    "SkillEnvironment",
    "SkillFile",
    "SkillFileError",
    "SkillRun",
    "build_environment",
    "load_skill",
    "load_skill_dir",
    "parse_skill",
    "register_prose_skills",
    "resolve_date",
    "run_skill",
]
