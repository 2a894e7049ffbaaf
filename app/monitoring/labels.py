"""Russian audit-history words of this feature, merged into app.audit.labels at start-up."""

from flask_login import current_user
from sqlalchemy.orm import Load, selectinload

from app.audit.present import namer, quoted
from app.cycles.models import Cycle
from app.monitoring.models import DataRequest, IndicatorValue, Submission
from app.monitoring.services import visible_submission

FIELDS: dict[str, str] = {
    "addressees": "адресаты", "data_request.indicators": "показатели", "submission_id": "ответ на запрос",
    "indicator_id": "показатель", "value": "значение", "comment": "комментарий", "delegate_id": "исполнитель",
    "not_provided_reason": "причина непредставления", "title": "название",
    "indicator_value.source": "способ ввода",
    # a request passed down to the institutions (services.pass_down): the region's request and whose answer it is
    "data_request.parent_request": "исходный запрос", "data_request.submission": "ответ на исходный запрос",
}
VALUES: dict[str, dict[str, str]] = {
    "indicator_value.source": {"form": "форма на странице", "xlsx": "файл XLSX", "api": "API",
                               "import": "импорт файла"},
}
REFERENCES: dict[str, str] = {"submission_id": "submission", "indicator_id": "indicator", "delegate_id": "user",
                              "data_request.indicators": "indicator_code", "addressees": "organisation_code",
                              "data_request.parent_request": "data_request", "data_request.submission": "submission"}


# What each namer's scope check reads, loaded with the rows (a property read lazily cost a statement per cycle): a
# request's organisation is its cycle's owner or, passed down, the addressee whose answer it is; a submission's page
# asks its request's state and organisation (services.visible_submission), and the cycle check the cycle's owner.
def _request_owner(path):
    return (path.selectinload(DataRequest.cycle).selectinload(Cycle.owner),
            path.selectinload(DataRequest.parent_submission).selectinload(Submission.organisation))


NAMERS = {
    "data_request": namer(DataRequest, lambda r: quoted(r.title), "monitoring.request_detail", "request_id",
                          options=_request_owner(Load(DataRequest))),
    "submission": namer(Submission, lambda s: f"{s.organisation.display_name} на {quoted(s.request.title, 60)}",
                        "monitoring.submission_detail", "submission_id",
                        options=(selectinload(Submission.organisation), *_request_owner(
                            selectinload(Submission.request))),
                        # its page checks the request too: an addressee sees nothing of a draft request
                        opens=lambda s, by_organisation: by_organisation(s.organisation) and
                        visible_submission(s, current_user)),
    "indicator_value": namer(IndicatorValue,
                             lambda v: f"{v.indicator.code}, {v.organisation.display_name}, {v.period}",
                             options=(selectinload(IndicatorValue.indicator),
                                      selectinload(IndicatorValue.organisation))),
}
