"""What warming Neo4j up reads and deletes (graphdb.warm_up)."""

from typing import LiteralString

# Scratch data of graphdb.warm_up: contacts whose every email and phone is "warm up <seconds
# since the epoch> <token> ..." (values that validation never lets through), and their ledger
# events, deleted a few hundred nodes at a time: a warm-up's own when it ends ($prefix names its
# token), and those of warm-ups that crashed ($prefix "warm up ", $before some minutes ago: one
# still running is younger).
DELETE_WARM_UP_EMAILS: LiteralString = """
MATCH (email:Email)
USING INDEX email:Email(value)
WHERE email.value STARTS WITH $prefix
  AND toInteger(split(email.value, ' ')[2]) < $before
WITH email LIMIT 100
OPTIONAL MATCH (email)<-[:HAS_EMAIL]-(contact:Contact)
OPTIONAL MATCH (contact)<-[:ABOUT]-(event:Event)
DETACH DELETE event, contact, email
RETURN count(DISTINCT email) AS deleted
"""
DELETE_WARM_UP_PHONES: LiteralString = """
MATCH (phone:Phone)
USING INDEX phone:Phone(value)
WHERE phone.value STARTS WITH $prefix
  AND toInteger(split(phone.value, ' ')[2]) < $before
WITH phone LIMIT 100
OPTIONAL MATCH (phone)<-[:HAS_PHONE]-(contact:Contact)
OPTIONAL MATCH (contact)<-[:ABOUT]-(event:Event)
DETACH DELETE event, contact, phone
RETURN count(DISTINCT phone) AS deleted
"""

# The id sequences of the same warm-ups (graphdb.warm_up.scratch_ids), named like their values.
DELETE_WARM_UP_SEQUENCES: LiteralString = """
MATCH (sequence:ContactIdSequence)
WHERE sequence.name STARTS WITH $prefix
  AND toInteger(split(sequence.name, ' ')[2]) < $before
WITH sequence LIMIT 100
DELETE sequence
RETURN count(sequence) AS deleted
"""

# How long Neo4j's JVM has spent compiling, in ms: what a fresh server spends most of its CPU on.
JIT_COMPILATION_MILLISECONDS: LiteralString = """
CALL dbms.queryJmx('java.lang:type=Compilation') YIELD attributes
RETURN attributes.TotalCompilationTime.value AS milliseconds
"""
