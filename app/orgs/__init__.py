from flask import Blueprint

bp = Blueprint("orgs", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from app.orgs import views  # noqa: E402, F401
from app.orgs.cli import orgs_cli  # noqa: E402
from app.orgs.tree import org_tree  # noqa: E402


def _setup(app) -> None:
    # Pickers draw the organisations a form offers as a tree (templates/_org_tree.html).
    app.jinja_env.globals["org_tree"] = org_tree


FEATURE = Feature(
    name="orgs", order=60, blueprints=(Mount(bp, "/orgs"),), cli=(orgs_cli,), setup=_setup,
    navigation=(NavEntry(30, "Организации", "orgs.org_list", group="Аналитика", also=("orgs.org_detail",)),),
    # The support relation of a centre (ИМЦ, РЦОКО), recorded on the centre.
    audit=AuditVocabulary(actions={"add_support": "центр начал сопровождать организацию",
                                   "remove_support": "центр прекратил сопровождать организацию"},
                          fields={"supported_id": "сопровождаемая организация"},
                          references={"supported_id": "organisation"}),
)
