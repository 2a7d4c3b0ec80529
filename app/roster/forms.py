"""The roster pages' forms: household, member, move, deactivate, upload and confirm."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from credits import roster

GENDER_CHOICES = [SelectChoice("男"), SelectChoice("女"), SelectChoice("", _l("Not given"))]


class HouseholdForm(FlaskForm):
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=50)])
    group = SelectField(_l("Group"), choices=[], validate_choice=False)
    new_group = StringField(
        _l("Or a new group"), validators=[Length(max=50)], description=_l("For example 四组")
    )
    house_number = StringField(_l("House no."), validators=[Length(max=50)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    head_gender = RadioField(
        _l("Gender of the head"), choices=GENDER_CHOICES, default="", validators=[Optional()]
    )
    head_birth_year = StringField(
        _l("Birth year of the head"),
        validators=[Length(max=20)],
        description=_l("For example 1965 or 1965.03"),
    )
    elderly_alone = BooleanField(_l("Elderly living alone"))
    disabled = BooleanField(_l("Disabled"))
    key = HiddenField()

    def special_needs(self) -> tuple[str, ...]:
        chosen = [
            (self.elderly_alone.data, roster.ELDERLY_ALONE),
            (self.disabled.data, roster.DISABLED),
        ]
        return tuple(flag for on, flag in chosen if on)

    def group_name(self) -> str:
        return (self.new_group.data or "").strip() or (self.group.data or "")


class HouseholdEditForm(FlaskForm):
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=50)])
    house_number = StringField(_l("House no."), validators=[Length(max=50)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    elderly_alone = BooleanField(_l("Elderly living alone"))
    disabled = BooleanField(_l("Disabled"))

    special_needs = HouseholdForm.special_needs


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    relation = StringField(
        _l("Relation to the head"),
        validators=[Length(max=20)],
        description=_l("For example 配偶, 子, 女, 儿媳, 孙子"),
    )
    gender = RadioField(_l("Gender"), choices=GENDER_CHOICES, default="", validators=[Optional()])
    birth_year = StringField(
        _l("Birth year"), validators=[Length(max=20)], description=_l("For example 1965 or 1965.03")
    )
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    key = HiddenField()


class MoveForm(FlaskForm):
    group = SelectField(_l("Move to group"), choices=[], validate_choice=False)
    new_group = StringField(_l("Or a new group"), validators=[Length(max=50)])

    def group_name(self) -> str:
        return (self.new_group.data or "").strip() or (self.group.data or "")


class ActiveForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=200)])


class UploadForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx or .csv)"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class ExportForm(FlaskForm):
    """The export button: nothing but the CSRF token."""
