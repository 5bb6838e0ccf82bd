"""法律知识库 (issue #19 item 1): standard answers for the hotline, searched the way callers speak.

Articles (question, standard answer, statutes cited, domain, service type, local region, review
date, author) are versioned — every edit is a new row in the history — and edited by supervisors
and admins only. Search runs on jieba tokens with synonyms folded to one word, in a 'simple'
tsvector (text.py); the operator's screen suggests articles while the description is typed, and
an order answered on the call (当场解答) records which article answered it (usage)."""
