"""What ``overture init NAME`` copies into a new pack folder (all but this file).

The Python files are real code, type-checked and linted with the project, so a new pack starts
from code that works; ``template_pack`` is replaced by the new pack's name on the way out.
"""
