"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

ACTIONS: dict[str, str] = {
    "generate": "сформирована редакция документа", "attach": "приложен файл",
    "to_approval": "отправлено на согласование", "agree": "согласовано",
    "to_signature": "передано на подпись", "route_done": "согласование завершено",
    "withdraw": "отозвано для изменения", "sign": "подписано", "sign_refused": "отказ в подписи",
    "acknowledge_refused": "отказ в отметке об ознакомлении", "register": "зарегистрировано",
    "publish": "опубликовано", "revise": "подготовка новой редакции",
    "registered_copy": "изготовлен зарегистрированный экземпляр",
    "template_upload": "загружена версия шаблона", "template_activate": "изменена действующая версия шаблона",
}
OBJECTS: dict[str, str] = {
    "document": "документ", "document_version": "редакция документа", "attachment": "вложение",
    "document_template": "шаблон документа", "document_journal": "журнал регистрации",
}
STATES: dict[str, str] = {
    "on_approval": "на согласовании", "awaiting_signature": "на подписи", "signed": "подписан",
    "registered": "зарегистрирован", "published": "опубликован",
}
FIELDS: dict[str, str] = {
    "type_key": "вид документа", "edition": "редакция", "addressee_id": "адресат", "params": "параметры", "type": "вид",
    "original_name": "имя файла", "sha256": "контрольная сумма (SHA-256)", "size": "размер, байт",
    "attachment_id": "вложение", "file_sha256": "контрольная сумма подписанного файла",
    "registration_number": "регистрационный номер",
    "registered_sha256": "контрольная сумма зарегистрированного экземпляра",
    "number": "номер версии", "valid": "проверка пройдена", "problems": "замечания проверки",
    "active_version": "действующая версия", "prefix": "префикс номера", "suffix": "суффикс номера",
    "file_index": "индекс дела", "journal_types": "виды документов в журналах",
}
