"""The local Neo4j's JVM gets more compiler threads only where its default gives too few."""

from graphdb.local.server import compiler_flags


def test_small_machines_get_three_optimising_compiler_threads() -> None:
    assert compiler_flags(2) == ("-XX:CICompilerCount=4",)
    assert compiler_flags(4) == ("-XX:CICompilerCount=4",)
    assert compiler_flags(None) == ("-XX:CICompilerCount=4",)


def test_larger_machines_keep_the_jvm_default() -> None:
    # The JVM's own count grows with the cores (7 on 8 cores): a fixed 4 would lower it.
    assert compiler_flags(8) == ()
    assert compiler_flags(64) == ()
