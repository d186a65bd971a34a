"""The ground floor: small helpers with one home each, used by every other folder and importing none of them.

``text`` (the exact-duplicate text rule and its grouping, word and character counts), ``fingerprint`` (cache
keys from content), ``jsonsafe`` (the one JSON conversion), ``sampling`` (stratified sampling), ``cores``
(how many cores this process may use), ``wording`` (how a figure reads: counts, plurals, sentences),
``progress`` (the one progress-callback type).
"""
