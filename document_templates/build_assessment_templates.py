"""The Word templates of the assessment of municipal mechanisms (issue 16, item 9): the regional order on the
campaign, the expert's conclusion on a municipality and the region's analytical report. Built with the house
formatting of build_templates.py (which imports BUILDERS from here), whose `Template` they use; the context builders
are in app/assessment/documents.py.
"""


def builders(b):
    """The three template builders over the build script's module `b` (Template, variables, sizes)."""

    def assessment_order():
        t = b.Template("assessment_order", "Приказ о проведении мониторинга механизмов управления качеством "
                                           "образования")
        t.use(b.COMMON_VARIABLES, preamble=b.PREAMBLE, items=b.ITEMS, control=b.CONTROL,
              campaign=("dict", "Кампания: title, period, window («с … по …»), by_criteria («по критериям …»: "
                                "набор критериев), levels (пороги уровней словами)"),
              steps=("list", "Порядок проведения (приложение № 1): number, step, who, dates"),
              mechanisms=("list", "Оцениваемые механизмы (приложение № 1): number, title"),
              coordinators=("list", "Муниципальные координаторы (приложение № 2): number, municipality, name, "
                                    "position"),
              experts=("list", "Региональные эксперты (приложение № 3): number, name, position, mechanisms, "
                               "municipalities"))
        t.issuer("ПРИКАЗ")
        t.date_number()
        t.heading()
        t.text("{{ preamble }}")
        t.order_items()
        t.signature()
        t.executor_mark()
        # A new page by the appendix's own paragraph: a page-break paragraph after a full page leaves a blank one.
        t.annex_mark("Приложение № 1", new_page=True)
        t.p("Порядок проведения мониторинга", align="center", bold=True, after=6)
        # one municipality in the singular (records-office review, 7 December 2026: «в муниципальных образованиях,
        # перечисленных» over a single row of appendix 2)
        t.text("1. Мониторинг проводится {{ campaign.window }} {{ campaign.by_criteria }} "
               "{{ 'в муниципальном образовании, указанном' if coordinators|length == 1 else "
               "'в муниципальных образованиях, перечисленных' }} в приложении № 2.")
        t.text("2. Уровень сформированности механизма определяется долей максимального балла: "
               "{{ campaign.levels }}.")
        t.text("3. Оцениваемые механизмы управления качеством образования:")
        t.table(["№", "Механизм"], ["{{ m.number }}", "{{ m.title }}"], "m in mechanisms", widths=[1.2, 15.8])
        t.text("4. Этапы и сроки мониторинга:")
        t.table(["№", "Этап", "Исполнители", "Сроки"],
                ["{{ s.number }}", "{{ s.step }}", "{{ s.who }}", "{{ s.dates }}"], "s in steps",
                widths=[1.3, 7.7, 4.2, 3.8])
        t.annex_mark("Приложение № 2", new_page=True)
        t.p("Муниципальные координаторы мониторинга", align="center", bold=True, after=6)
        t.table(["№", "Муниципальный орган управления образованием", "Координатор", "Должность"],
                ["{{ c.number }}", "{{ c.municipality }}", "{{ c.name }}", "{{ c.position }}"], "c in coordinators",
                widths=[1.3, 5.7, 5.0, 5.0])
        # each appendix on a page of its own (appendix 3 ran on under appendix 2's table)
        t.annex_mark("Приложение № 3", new_page=True)
        t.p("Региональные эксперты и закрепление за муниципальными образованиями", align="center", bold=True,
            after=6)
        t.table(["№", "Эксперт", "Должность, место работы", "Механизмы", "Муниципальные органы управления "
                                                                           "образованием"],
                ["{{ e.number }}", "{{ e.name }}", "{{ e.position }}", "{{ e.mechanisms }}", "{{ e.municipalities }}"],
                "e in experts", widths=[1.0, 3.4, 4.0, 3.2, 5.4], size=b.TABLE_PT)
        # 5: appendix 3 on a new page; the items' executor lines justified; 6: one municipality in the singular
        t.save({"family": "procedural", "stages": [], "version": 7,
                "filename": "Приказ о мониторинге механизмов {period} {number}.docx"})

    def expert_conclusion():
        t = b.Template("expert_conclusion", "Экспертное заключение по результатам оценки механизмов управления "
                                            "качеством образования")
        t.use(b.COMMON_VARIABLES,
              conclusion=("dict", "Заключение: municipality, campaign, period, window, experts (ФИО экспертов), "
                                  "experts_label («Эксперт» или «Эксперты»), "
                                  "by_criteria («по критериям …»), basis (приказ о проведении или «—»), points, max, "
                                  "percent, level, summary, pending (оценки не утверждены "
                                  "или пусто)"),
              mechanisms=("list", "Оценка по механизмам: number, title, self, expert, max, percent, level"),
              blocks=("list", "Оценка по блокам: number, mechanism (в первой строке механизма — строка-заголовок "
                                "группы, в остальных пусто), block, self, expert, max, percent"),
              justification=("list", "Обоснование оценки (строки)"),
              recommendations=("list", "Рекомендации (строки)"))
        t.issuer("ЭКСПЕРТНОЕ ЗАКЛЮЧЕНИЕ")
        t.date_number()
        t.heading()
        t.text("Муниципальный орган управления образованием: {{ conclusion.municipality }}.")
        # The window is the campaign's, not the day this evaluation ended: «Оценка проведена с 07.12.2026 по
        # 05.02.2027» on a conclusion dated 7 December 2026 said it was done two months ahead (records-office review,
        # 7 December 2026).
        t.text("Оценка проведена в рамках кампании «{{ conclusion.campaign }}» (срок проведения мониторинга — "
               "{{ conclusion.window }}) {{ conclusion.by_criteria }}.")
        t.tag("{%p if conclusion.basis != '—' %}")
        t.text("Основание: {{ conclusion.basis }}.")
        t.tag("{%p endif %}")
        t.text("{{ conclusion.experts_label }}: {{ conclusion.experts }}.")
        t.p("1. Оценка по механизмам", bold=True, before=6, after=6, keep=True)
        t.text("Баллы по механизмам (самооценка муниципалитета, оценка эксперта, максимум):")
        t.table(["№", "Механизм", "Самооценка", "Эксперт", "Макс.", "Доля", "Уровень"],
                ["{{ m.number }}", "{{ m.title }}", "{{ m.self }}", "{{ m.expert }}", "{{ m.max }}", "{{ m.percent }}",
                 "{{ m.level }}"], "m in mechanisms", widths=[1.0, 5.6, 2.4, 2.0, 1.5, 1.6, 2.9], size=b.SMALL_PT)
        t.text("{{ conclusion.summary }}")
        t.tag("{%p if conclusion.pending %}")
        t.text("{{ conclusion.pending }}")
        t.tag("{%p endif %}")
        t.p("2. Оценка по блокам управленческого цикла", bold=True, before=6, after=6, keep=True)
        t.table(["№", "Блок", "Самооценка", "Эксперт", "Макс.", "Доля"],
                ["{{ r.number }}", "{{ r.block }}", "{{ r.self }}", "{{ r.expert }}", "{{ r.max }}",
                 "{{ r.percent }}"], "r in blocks", widths=[1.0, 8.2, 2.4, 2.0, 1.5, 1.9], size=b.SMALL_PT,
                group="r.mechanism")
        t.p("3. Обоснование оценки", bold=True, before=6, after=6, keep=True)
        t.tag("{%p for line in justification %}")
        t.text("3.{{ loop.index }}. {{ line }}")
        t.tag("{%p endfor %}")
        t.p("4. Рекомендации", bold=True, before=6, after=6, keep=True)
        t.tag("{%p for line in recommendations %}")
        t.text("4.{{ loop.index }}. {{ line }}")
        t.tag("{%p endfor %}")
        t.use(signers=("list", "Подписи экспертов в порядке их назначения: position (должность), name (И.О. Фамилия), "
                               "date (дата подписи или null — бланк даты)"))
        t.signature_rows("s in signers", "s")
        t.executor_mark()
        # 5: «Эксперты:» before the names of several experts; «не сформирован» on one line in the level column
        # 6: every expert who scored the municipality signs, each on their own line with the date
        t.save({"family": "procedural", "stages": [], "version": 7,
                "filename": "Экспертное заключение {period} {number}.docx"})

    def assessment_report():
        t = b.Template("assessment_report", "Аналитический отчёт по результатам оценки механизмов управления "
                                            "качеством образования")
        t.use(b.COMMON_VARIABLES,
              report=("dict", "Отчёт: intro (общие сведения), basis (как определён уровень), distribution "
                              "(распределение по уровням), codes (номера механизмов на тепловой карте), blocks (номера "
                              "блоков на профиле), figures (имена рисунков в charts: heatmap, blocks), zones_note "
                              "(что такое проблемная зона или что их нет), gaps_note (что сравнивает таблица "
                              "самооценки и оценки эксперта)"),
              charts=("dict", "Рисунки (PNG): heatmap (тепловая карта «муниципалитет × механизм»), blocks (профиль "
                              "по блокам цикла)"),
              heat=("list", "Тепловая карта «муниципалитет × механизм»: municipality (строка-заголовок группы; пусто "
                            "в остальных строках того же муниципалитета), mechanism, self (доля самооценки), expert "
                            "(доля экспертной оценки), level"),
              zones=("list", "Проблемные зоны: number, block, percent, cells (муниципалитетов с блоком ниже порога из "
                             "оценённых)"),
              gaps=("list", "Самооценка и экспертная оценка: number, municipality, mechanisms (механизмов сравнено), "
                            "self, expert, gap, flag"),
              dynamics=("dict", "Динамика: note, rows (number, municipality, before, now, change)"),
              factors=("list", "Факторы: number, factor, n, coefficient, strength (сила связи словами)"),
              measures=("list", "Рекомендуемые меры (строки)"))
        t.issuer("АНАЛИТИЧЕСКИЙ ОТЧЁТ")
        t.date_number()
        t.heading()
        t.text("{{ report.intro }}")
        t.text("{{ report.basis }}")
        t.p("1. Уровень сформированности механизмов по муниципальным образованиям", bold=True, before=6, after=6,
            keep=True)
        t.text("Доля максимального балла по самооценке и по утверждённой экспертной оценке; уровень — по "
               "экспертной оценке, а до её утверждения — по самооценке.")
        t.table(["Механизм", "Самооценка", "Эксперт", "Уровень"],
                ["{{ h.mechanism }}", "{{ h.self }}", "{{ h.expert }}", "{{ h.level }}"],
                "h in heat", widths=[9.6, 2.4, 2.0, 3.0], size=b.SMALL_PT, group="h.municipality")
        t.text("{{ report.distribution }}")
        # The picture keeps with its caption, so neither starts a page alone.
        t.p("{{ charts[report.figures.heatmap] }}", align="center", before=6, keep=True)
        t.p("Рисунок 1. Доля максимального балла по механизмам в муниципальных образованиях (цвет — уровень "
            "сформированности)", align="center", size=b.TABLE_PT, keep=True)
        t.p("{{ report.codes }}", align="justify", size=b.SMALL_PT, after=6)
        t.p("2. Проблемные зоны", bold=True, before=6, after=6, keep=True)
        t.text("{{ report.zones_note }}")
        t.tag("{%p if zones %}")
        t.table(["№", "Блок управленческого цикла", "Средняя доля максимального балла",
                 "Муниципалитетов ниже порога"],
                ["{{ z.number }}", "{{ z.block }}", "{{ z.percent }}", "{{ z.cells }}"], "z in zones",
                widths=[1.3, 6.7, 4.5, 4.5])
        t.tag("{%p endif %}")
        t.p("{{ charts[report.figures.blocks] }}", align="center", before=6, keep=True)
        t.p("Рисунок 2. Средняя по региону доля максимального балла по блокам управленческого цикла: "
            "{{ report.blocks }}.", align="center", size=b.TABLE_PT, after=6)
        t.p("3. Самооценка и экспертная оценка", bold=True, before=6, after=6, keep=True)
        t.tag("{%p if gaps %}")
        t.text("{{ report.gaps_note }}")
        t.table(["№", "Муниципальный орган управления образованием", "Механизмов сравнено", "Самооценка",
                 "Эксперт", "Разница", "Вывод"],
                ["{{ g.number }}", "{{ g.municipality }}", "{{ g.mechanisms }}", "{{ g.self }}", "{{ g.expert }}",
                 "{{ g.gap }}", "{{ g.flag }}"], "g in gaps", widths=[1.0, 3.7, 2.6, 2.6, 1.9, 2.1, 3.1],
                size=b.SMALL_PT)
        t.tag("{%p else %}")
        t.text("Оценок эксперта, с которыми можно сравнить самооценку, пока нет.")
        t.tag("{%p endif %}")
        t.p("4. Факторы", bold=True, before=6, after=6, keep=True)
        t.tag("{%p if factors %}")
        t.table(["№", "Фактор", "Муниципалитетов", "Коэффициент", "Связь"],
                ["{{ f.number }}", "{{ f.factor }}", "{{ f.n }}", "{{ f.coefficient }}", "{{ f.strength }}"],
                "f in factors", widths=[1.0, 5.7, 3.7, 2.6, 4.0], size=b.SMALL_PT)
        t.text("Коэффициент показывает связь уровня сформированности механизмов с условиями муниципалитета и "
               "не означает причинной зависимости.")
        t.tag("{%p else %}")
        t.text("Данных об условиях муниципалитетов для оценки связи недостаточно.")
        t.tag("{%p endif %}")
        t.p("5. Динамика", bold=True, before=6, after=6, keep=True)
        t.text("{{ dynamics.note }}")
        t.tag("{%p if dynamics.rows %}")
        t.table(["№", "Муниципальный орган управления образованием", "Предыдущая кампания", "Текущая кампания",
                 "Изменение"],
                ["{{ d.number }}", "{{ d.municipality }}", "{{ d.before }}", "{{ d.now }}", "{{ d.change }}"],
                "d in dynamics.rows", widths=[1.0, 6.5, 3.2, 3.2, 3.1])
        t.tag("{%p endif %}")
        t.p("6. Рекомендуемые меры", bold=True, before=6, after=6, keep=True)
        t.tag("{%p for line in measures %}")
        t.text("6.{{ loop.index }}. {{ line }}")
        t.tag("{%p endfor %}")
        t.signature()
        t.executor_mark()
        # 2: the heat map and the blocks' profile as pictures
        # 7: the gap table as the region picture's: the mechanisms compared, percents in tenths, what it compares
        t.save({"family": "procedural", "stages": [], "version": 7,
                "filename": "Аналитический отчёт по мониторингу механизмов {period} {number}.docx"})

    return {f.__name__: f for f in (assessment_order, expert_conclusion, assessment_report)}
