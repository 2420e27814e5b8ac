"""Co-investment commitments (issue 7; a package since issue #13): one module per concern.

Rules (also in docs/commitments.md):

- Money is ``Decimal`` end to end. An amount has at most the decimals of its currency's ISO
  4217 minor unit (babel): JPY/KRW 0, USD/EUR 2, BHD/KWD/OMR 3.
- ``usd_amount`` = amount × the table rate of the currency on, or most recently before, the
  commitment date, computed exactly and rounded once to cents with ROUND_HALF_EVEN. The rate
  and its date are stored with the commitment; reloading the rate table never changes them.
- Tranches are one unit: given together, validated together, replaced together. Their
  amounts sum exactly to the commitment amount; a proposed commitment may have none yet.
  A cancelled tranche does not count towards the sum (the database trigger agrees).
- Officials of the country create, edit and withdraw while ``proposed``; an approver confirms
  once the commitment belongs to an approved partnership; an approver or compliance officer
  marks tranches of a confirmed commitment paid; the beat task marks confirmed commitments'
  scheduled tranches past their due date ``overdue`` and tells the country's officials.

Modules, from the bottom up (import-linter holds the order, pyproject.toml):
``money`` → ``rates`` → ``validation``, ``records``, ``permissions``, ``notices``,
``selectors``, ``totals`` → ``services``, ``payments`` → ``serializers``, ``forms``,
``chart``, ``export``, ``dashboard`` → ``api``, ``views`` → ``urls``, ``urls_api``.
The models stay in ``partnerships/models.py`` (app label and migrations unchanged).
"""
