"""LXC: compose projects as LXC containers, through LXC's own Python binding."""
