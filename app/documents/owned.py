"""The template context of a document owned by a higher feature's object (app/documents/owners.py).

Same contract as contexts.build_context: the shared requisites of the issuing organisation (contexts.requisites),
the type's own variables from the builder its owner kind registered, plain primitives only, and the dating rules
(app.core.dating) checked for a draft made today.
"""


from app.core import dating
from app.core.errors import ValidationFailed
from app.documents import contexts, owners
from app.documents.catalogue import DocumentType, get_type
from app.documents.rendering import declared_variables
from app.orgs.services import org_today


def default_signer(dtype: DocumentType, org):
    """The holder of the first of the type's signer roles that someone holds at `org` itself (its head first)."""
    for role in dtype.signer_roles:
        users = contexts._users_at(org, role)
        if users:
            return contexts.first_of(org, users)
    return None


def build_owned_context(type_key: str, owner, *, params=None, version=None) -> dict:
    dtype = get_type(type_key)
    kind = owners.kind_of(dtype.owner)
    builder = kind.builders.get(type_key)
    if builder is None:
        raise ValidationFailed(f"Для вида документа «{dtype.title}» не задан построитель данных.")
    params = dict(params or {})
    org = kind.issuer(owner)
    named = owners.named_signer(kind, dtype, owner)
    signer = named or default_signer(dtype, org)
    executor = kind.executor(owner) if kind.executor else None
    ctx = contexts.requisites(dtype, org, version, params, signer=signer, executor=executor)
    if "charts" in declared_variables(type_key):
        ctx["charts"] = {"emblem": org.emblem} if org.emblem_sha256 else {}
    built = builder(dtype, owner, ctx, params=params)
    if "charts" in built and ctx.get("charts"):
        built["charts"] = {**ctx["charts"], **built["charts"]}
    ctx.update(built)
    if named is not None:
        # Recorded for the engine: a document that names its signer is signed by that person alone (or a deputy).
        ctx["named_signer"] = {"user_id": named.id, "name": named.full_name}
    wrong = dating.problems(ctx.get("dating"), org_today(org))
    if wrong and not (contexts._attr(version, "signatures") or contexts._attr(version, "registration_number")):
        contexts.refuse(dtype.title, wrong)
    return ctx
