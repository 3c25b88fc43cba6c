/* Decoding the guest's messages: the guest is untrusted, so every way a
 * message can be wrong must give an error naming what is wrong. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "link/protocol.h"

static const char *const names[] = { "anon", "thp-cow" };
/* 8 device blocks of 2 MiB at 4 GiB; memory blocks of 128 MiB: block 32 */
static const struct state_expect X = {
	.nblocks = 8, .first_mblock = 32, .last_mblock = 32, .npops = 2, .pop_names = names,
};

#define POPS_OK                                                                                            \
	"\"populations\":[{\"name\":\"anon\",\"type\":\"anon\",\"pages\":10,\"in_region\":10,\"absent\":0," \
	"\"moved\":0,\"verified\":10,\"corrupted\":0},"                                                     \
	"{\"name\":\"thp-cow\",\"type\":\"thp-cow\",\"pages\":1024,\"in_region\":1024,\"absent\":0,"        \
	"\"moved\":0,\"verified\":1023,\"corrupted\":1,\"thp_pages\":512,"                                  \
	"\"first_corrupted\":{\"mapping\":\"child\",\"page\":1}}]"
#define MB_OK "\"memory_blocks\":[{\"index\":32,\"state\":\"online\",\"zone\":\"Movable\"}]"
#define HELD_OK "\"held\":[{\"block\":0,\"pages\":{\"anon\":10,\"thp-cow\":512}},{\"block\":1,\"pages\":{\"thp-cow\":512}}]"

static const char *good_state =
	"{\"type\":\"state\",\"step\":\"unplug-all\",\"elapsed_ms\":12,\"map\":\"PPUUUUUU\"," POPS_OK "," MB_OK
	"," HELD_OK "}";

static int parse_state(const char *line, struct guest_state *s, struct err *e)
{
	struct json_object *msg;
	const char *type;
	if (proto_parse_line(line, &msg, &type, e) < 0)
		return -1;
	int r = proto_state(msg, &X, s, e);
	json_object_put(msg);
	return r;
}

static void decodes_a_good_state(void **state)
{
	struct guest_state s;
	struct err e = { "" };
	assert_int_equal(parse_state(good_state, &s, &e), 0);
	assert_string_equal(s.step, "unplug-all");
	assert_int_equal(s.nblocks, 8);
	assert_int_equal(s.plugged, 2);
	assert_int_equal(s.npops, 2);
	assert_int_equal(s.pops[1].pages, 1024);
	assert_int_equal(s.pops[1].corrupted, 1);
	assert_int_equal(s.pops[1].thp_pages, 512);
	assert_int_equal(s.pops[0].thp_pages, -1);
	assert_true(s.pops[1].has_first_bad);
	assert_string_equal(s.pops[1].first_bad_mapping, "child");
	assert_int_equal(s.nmblocks, 1);
	assert_string_equal(s.mblocks[0].zone, "Movable");
	assert_int_equal(s.nheld, 3);
	assert_int_equal(s.held[0].block, 0);
	assert_int_equal(s.held[1].pop, 1);
	assert_int_equal(s.held[2].block, 1);
	assert_int_equal(s.held[2].pages, 512);
	guest_state_free(&s);
}

/* A stuck block with the kernel's counters of its busy page, the holds the
 * populations declare, and the driver's worker stack. */
#define POPS_HOLD                                                                                          \
	"\"populations\":[{\"name\":\"anon\",\"type\":\"anon\",\"pages\":10,\"in_region\":10,\"absent\":0," \
	"\"moved\":0,\"verified\":10,\"corrupted\":0,\"hold\":{\"kind\":\"gup\",\"refs\":1},"                 \
	"\"has_release\":true,\"dropped\":\"read the pipe\"},"                                                  \
	"{\"name\":\"thp-cow\",\"type\":\"thp-cow\",\"pages\":1024,\"in_region\":1024,\"absent\":0,"        \
	"\"moved\":0,\"verified\":1024,\"corrupted\":0,\"thp_pages\":512}]"
#define THP_BUSY                                                                                             \
	"{\"pfn\":1049088,\"flags\":\"0x40d868\",\"mapcount\":2,\"owner\":{\"population\":\"thp-cow\","           \
	"\"mapping\":\"parent\",\"page\":0},\"kernel\":{\"refcount\":512,\"mapcount\":1,\"mapping\":\"anon\","    \
	"\"lru\":true,\"folio\":{\"head_pfn\":1049088,\"nr\":512,\"entire_mapcount\":1,\"pte_mapped\":511,"      \
	"\"pte_mappings\":511,\"pincount\":0},\"migratetype\":\"Movable\"}}"

static void decodes_counters_holds_and_worker(void **state)
{
	struct guest_state s;
	struct err e = { "" };
	const char *line = "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_HOLD
			   "," MB_OK "," HELD_OK ",\"counters\":\"measured\",\"worker_stack\":\"node_page_state < "
			   "isolate_migratepages_block\",\"stuck\":[{\"block\":1,\"isolation_failures\":2,\"census\":"
			   "{\"ours\":512,\"lru\":0,\"compound_tail\":511,\"slab\":0,\"pgtable\":0,\"buddy\":0,"
			   "\"noflags\":0,\"other\":0,\"thp\":512},\"busy\":[" THP_BUSY "],\"dumped\":[],"
			   "\"pageblocks\":{\"Isolate\":1}}]}";
	if (parse_state(line, &s, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(s.pops[0].hold, "gup");
	assert_int_equal(s.pops[0].hold_refs, 1);
	assert_true(s.pops[0].has_release);
	assert_string_equal(s.pops[0].dropped, "read the pipe");
	assert_string_equal(s.pops[1].hold, "");
	assert_string_equal(s.counters, "measured");
	assert_true(s.have_worker_stack);
	assert_non_null(strstr(s.worker_stack, "isolate_migratepages_block"));
	const struct page_counters *k = &s.stuck[0].busy[0].kc;
	assert_true(k->measured);
	assert_true(k->large);
	assert_int_equal(k->refcount, 512);
	assert_int_equal(k->entire, 1);
	assert_int_equal(k->pte_mapped, 511);
	assert_int_equal(k->nr, 512);
	assert_int_equal(k->pincount, 0);
	assert_string_equal(k->mapping, "anon");
	assert_string_equal(k->migratetype, "Movable");
	assert_int_equal(s.stuck[0].pageblocks, 1);
	assert_int_equal(s.stuck[0].pageblocks_isolated, 1);
	assert_false(k->hugetlb);
	assert_int_equal(k->hugetlb_migratable, -1);
	assert_false(s.stuck[0].probed);
	guest_state_free(&s);

	/* the kprobes' refusals at isolation: counted, with the first one's
	 * error and caller; a count without them, or a bad error, is refused */
	static const struct {
		const char *extra;
		int ok;
	} refusals[] = {
		{ ",\"isolation_refusals\":0", 1 },
		{ ",\"isolation_refusals\":2,\"isolation_refusal_error\":-16,\"isolation_refusal_caller\":\"alloc_contig_range\"", 1 },
		{ ",\"isolation_refusals\":2", 0 },
		{ ",\"isolation_refusals\":2,\"isolation_refusal_error\":16,\"isolation_refusal_caller\":\"x\"", 0 },
		{ ",\"isolation_refusals\":2,\"isolation_refusal_error\":-5000,\"isolation_refusal_caller\":\"x\"", 0 },
		{ ",\"isolation_refusals\":-1", 0 },
	};
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		char buf[4096];
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_HOLD "," MB_OK
			 "," HELD_OK ",\"evidence\":{\"trace\":true,\"dump_page\":true,\"isolation_events\":0,"
			 "\"isolation_failures\":0,\"dumped_pages\":0,\"migrate\":[],\"isolate_probe\":true,"
			 "\"isolate_calls\":9,\"target_probe\":true,\"target_calls\":6,\"target_failures\":4,\"isolation_refusals\":[{\"start_pfn\":1,\"end_pfn\":2,\"error\":-16,"
			 "\"caller\":\"alloc_contig_range\",\"count\":4}]},\"stuck\":[{\"block\":1,"
			 "\"isolation_failures\":0,\"census\":{\"ours\":0,\"lru\":0,\"compound_tail\":0,\"slab\":0,"
			 "\"pgtable\":0,\"buddy\":512,\"noflags\":0,\"other\":0,\"thp\":0},\"busy\":[],\"dumped\":[]%s}]}",
			 refusals[i].extra);
		int r = parse_state(buf, &s, &e);
		if (!refusals[i].ok) {
			assert_int_equal(r, -1);
			continue;
		}
		if (r < 0)
			fail_msg("%zu: %s", i, e.msg);
		assert_true(s.evidence.isolate_probe);
		assert_int_equal(s.evidence.isolate_calls, 9);
		assert_true(s.evidence.target_probe);
		assert_int_equal(s.evidence.target_calls, 6);
		assert_int_equal(s.evidence.target_failures, 4);
		assert_int_equal(s.evidence.isolation_refusals, 4);
		assert_true(s.stuck[0].probed);
		assert_int_equal(s.stuck[0].isolation_refusals, i ? 2 : 0);
		if (i) {
			assert_int_equal(s.stuck[0].refusal_error, -16);
			assert_string_equal(s.stuck[0].refusal_caller, "alloc_contig_range");
		}
		guest_state_free(&s);
	}

	/* a hugetlb page: its migratable flag measured, clear; or not measured */
	static const struct {
		const char *extra;
		int migratable;
		const char *unmeasured;
	} huge[] = {
		{ ",\"hugetlb\":true,\"hugetlb_migratable\":false", 0, "" },
		{ ",\"hugetlb\":true,\"hugetlb_migratable\":true", 1, "" },
		{ ",\"hugetlb\":true,\"hugetlb_unmeasured\":\"BTF has no page.private\"", -1, "BTF has no page.private" },
		{ ",\"hugetlb\":true", -1, "the guest sent no hugetlb flags" },
	};
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		char msg[4096];
		snprintf(msg, sizeof(msg),
			 "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_HOLD "," MB_OK
			 "," HELD_OK ",\"stuck\":[{\"block\":1,\"isolation_failures\":2,\"census\":{\"ours\":512,"
			 "\"lru\":0,\"compound_tail\":511,\"slab\":0,\"pgtable\":0,\"buddy\":0,\"noflags\":0,"
			 "\"other\":0,\"thp\":0},\"busy\":[{\"pfn\":1049088,\"flags\":\"0x28800\",\"kernel\":"
			 "{\"refcount\":2,\"mapcount\":0,\"mapping\":\"file\",\"aops\":\"hugetlbfs_aops\",\"folio\":"
			 "{\"head_pfn\":1049088,\"nr\":512,\"entire_mapcount\":1,\"pte_mapped\":0,\"pte_mappings\":0,"
			 "\"pincount\":0}%s}}],\"dumped\":[]}]}",
			 huge[i].extra);
		if (parse_state(msg, &s, &e) < 0)
			fail_msg("hugetlb case %zu: %s", i, e.msg);
		k = &s.stuck[0].busy[0].kc;
		assert_true(k->measured);
		assert_true(k->hugetlb);
		assert_int_equal(k->hugetlb_migratable, huge[i].migratable);
		assert_string_equal(k->hugetlb_unmeasured, huge[i].unmeasured);
		guest_state_free(&s);
	}

	/* hostile counters: each must be refused, naming what is wrong */
	static const struct {
		const char *busy, *why;
	} bad[] = {
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":4294967296,\"mapcount\":1,\"mapping\":\"anon\"}}",
		  "\"refcount\" = 4294967296 is outside" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"evil\"}}",
		  "kernel.mapping \"evil\"" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"anon\",\"lru\":1}}",
		  "\"lru\" is not a boolean" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"file\",\"hugetlb\":true,"
		  "\"hugetlb_migratable\":0}}",
		  "\"hugetlb_migratable\" is not a boolean" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"file\","
		  "\"hugetlb_migratable\":false}}",
		  "\"hugetlb_migratable\" on a page that is not hugetlb" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"file\",\"hugetlb\":\"yes\"}}",
		  "\"hugetlb\" is not a boolean" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"anon\",\"folio\":"
		  "{\"head_pfn\":1,\"nr\":512,\"entire_mapcount\":0,\"pte_mapped\":0,\"pte_mappings\":0,"
		  "\"pincount\":0}}}",
		  "is not in its folio" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"anon\",\"folio\":"
		  "{\"head_pfn\":1049088,\"nr\":512,\"entire_mapcount\":0,\"pte_mapped\":513,\"pte_mappings\":0,"
		  "\"pincount\":0}}}",
		  "\"pte_mapped\" = 513 is outside" },
		{ "{\"pfn\":1049088,\"kernel\":{\"refcount\":1,\"mapcount\":1,\"mapping\":\"anon\",\"folio\":"
		  "{\"head_pfn\":1049088,\"nr\":1,\"entire_mapcount\":0,\"pte_mapped\":0,\"pte_mappings\":0,"
		  "\"pincount\":0}}}",
		  "\"nr\" = 1 is outside" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[4096];
		snprintf(msg, sizeof(msg),
			 "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_HOLD "," MB_OK
			 "," HELD_OK ",\"stuck\":[{\"block\":1,\"isolation_failures\":2,\"census\":{\"ours\":512,"
			 "\"lru\":0,\"compound_tail\":511,\"slab\":0,\"pgtable\":0,\"buddy\":0,\"noflags\":0,"
			 "\"other\":0,\"thp\":512},\"busy\":[%s],\"dumped\":[]}]}",
			 bad[i].busy);
		if (parse_state(msg, &s, &e) != -1)
			fail_msg("hostile counters %zu accepted", i);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("case %zu: error \"%s\" does not say \"%s\"", i, e.msg, bad[i].why);
	}
	/* a hold of a kind nobody knows, a page count of pageblocks too large */
	static const char *const holds[] = {
		"{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\",\"populations\":[{\"name\":"
		"\"anon\",\"type\":\"anon\",\"pages\":1,\"in_region\":1,\"absent\":0,\"moved\":0,\"verified\":1,"
		"\"corrupted\":0,\"hold\":{\"kind\":\"glue\",\"refs\":1}},{\"name\":\"thp-cow\",\"type\":\"thp-cow\","
		"\"pages\":1,\"in_region\":1,\"absent\":0,\"moved\":0,\"verified\":1,\"corrupted\":0}]," MB_OK
		"," HELD_OK "}",
	};
	assert_int_equal(parse_state(holds[0], &s, &e), -1);
	assert_non_null(strstr(e.msg, "is not gup, pin, transient, unmovable or offline-refusal"));
}

/* Each case: a state message with one thing wrong, and words the error must
 * contain. */
static void rejects_bad_states(void **state)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPU\"," POPS_OK "," MB_OK "," HELD_OK "}",
		  "region has 8 blocks" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUX\"," POPS_OK "," MB_OK "," HELD_OK "}",
		  "\"map\"[7]" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":-1,\"map\":\"PPUUUUUU\"," POPS_OK "," MB_OK "," HELD_OK "}",
		  "elapsed_ms" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\",\"populations\":[]," MB_OK "," HELD_OK "}",
		  "scenario has 2" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_OK "," MB_OK
		  ",\"held\":[{\"block\":8,\"pages\":{\"anon\":1}}]}",
		  "\"block\" = 8 is out of range" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_OK "," MB_OK
		  ",\"held\":[{\"block\":1,\"pages\":{\"evil\\u001b[2J\":1}}]}",
		  "unknown population \"evil?[2J\"" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_OK "," MB_OK
		  ",\"held\":[{\"block\":1,\"pages\":{\"anon\":0}}]}",
		  "bad page count" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_OK
		  ",\"memory_blocks\":[{\"index\":31,\"state\":\"online\",\"zone\":\"Normal\"}]," HELD_OK "}",
		  "outside the region" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\","
		  "\"populations\":[{\"name\":\"anon\",\"type\":\"anon\",\"pages\":10,\"in_region\":10,\"absent\":0,"
		  "\"moved\":0,\"verified\":10,\"corrupted\":5},{\"name\":\"thp-cow\",\"type\":\"thp-cow\",\"pages\":1,"
		  "\"in_region\":1,\"absent\":0,\"moved\":0,\"verified\":1,\"corrupted\":0}]," MB_OK "," HELD_OK "}",
		  "do not add up" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\","
		  "\"populations\":[{\"name\":\"thp-cow\",\"type\":\"anon\",\"pages\":1,\"in_region\":1,\"absent\":0,"
		  "\"moved\":0,\"verified\":1,\"corrupted\":0},{\"name\":\"anon\",\"type\":\"thp-cow\",\"pages\":1,"
		  "\"in_region\":1,\"absent\":0,\"moved\":0,\"verified\":1,\"corrupted\":0}]," MB_OK "," HELD_OK "}",
		  "the scenario's is \"anon\"" },
		{ "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPUUUUUU\",\"populations\":{}," MB_OK "," HELD_OK "}",
		  "\"populations\" is missing or not an array" },
		{ "{\"type\":\"state\",\"step\":7,\"elapsed_ms\":1,\"map\":\"PPUUUUUU\"," POPS_OK "," MB_OK "," HELD_OK "}",
		  "\"step\" is not a string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_state s;
		struct err e = { "" };
		if (parse_state(cases[i].line, &s, &e) != -1)
			fail_msg("case %zu accepted", i);
		if (!strstr(e.msg, cases[i].why))
			fail_msg("case %zu: error \"%s\" does not say \"%s\"", i, e.msg, cases[i].why);
		assert_null(s.map);
		assert_null(s.pops);
	}
}

static void rejects_garbage_lines(void **state)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{ "", "invalid JSON" },
		{ "\x01\x02{not json", "invalid JSON" },
		{ "{\"type\":\"hello\"} trailing", "trailing bytes" },
		{ "[1,2,3]", "without a string \"type\"" },
		{ "{\"type\":5}", "without a string \"type\"" },
		{ "{\"type\":\"x\",\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", "invalid JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *msg = NULL;
		const char *type;
		struct err e = { "" };
		if (proto_parse_line(cases[i].line, &msg, &type, &e) != -1)
			fail_msg("case %zu accepted", i);
		if (!strstr(e.msg, cases[i].why))
			fail_msg("case %zu: error \"%s\" does not say \"%s\"", i, e.msg, cases[i].why);
		/* what is echoed back is printable */
		for (const char *p = e.msg; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
	}
}

static void checks_hello(void **state)
{
	struct json_object *msg;
	const char *type;
	struct guest_hello h;
	struct err e;
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"type\":\"hello\",\"proto\":%d,\"program\":\"vmemstress-guest 1\",\"kernel\":\"6.1.0-56-cloud-amd64\","
		 "\"memory_block_size\":134217728,\"thp\":\"always [madvise] never\"}",
		 VMS_PROTO_VERSION);
	assert_int_equal(proto_parse_line(line, &msg, &type, &e), 0);
	assert_string_equal(type, "hello");
	assert_int_equal(proto_hello(msg, &h, &e), 0);
	assert_string_equal(h.kernel, "6.1.0-56-cloud-amd64");
	assert_int_equal(h.memory_block_size, 134217728);
	json_object_put(msg);

	snprintf(line, sizeof(line), "{\"type\":\"hello\",\"proto\":%d,\"program\":\"x\",\"kernel\":\"k\",\"memory_block_size\":1}",
		 VMS_PROTO_VERSION + 1);
	assert_int_equal(proto_parse_line(line, &msg, &type, &e), 0);
	assert_int_equal(proto_hello(msg, &h, &e), -1);
	assert_non_null(strstr(e.msg, "rebuild the guest image"));
	json_object_put(msg);

	char longname[400];
	memset(longname, 'k', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	snprintf(line, sizeof(line), "{\"type\":\"hello\",\"proto\":%d,\"program\":\"x\",\"kernel\":\"%s\",\"memory_block_size\":1}",
		 VMS_PROTO_VERSION, longname);
	assert_int_equal(proto_parse_line(line, &msg, &type, &e), 0);
	assert_int_equal(proto_hello(msg, &h, &e), -1);
	assert_non_null(strstr(e.msg, "\"kernel\" is longer than"));
	json_object_put(msg);
}

static void error_messages_are_sanitised(void **state)
{
	struct json_object *msg;
	const char *type;
	struct err e;
	char text[200];
	assert_int_equal(proto_parse_line("{\"type\":\"error\",\"in\":\"setup\",\"message\":\"no room\\u001b[31m on node 1\"}",
					  &msg, &type, &e), 0);
	proto_error_text(msg, text, sizeof(text));
	assert_string_equal(text, "guest error in setup: no room?[31m on node 1");
	json_object_put(msg);
}

static void encodes_commands(void **state)
{
	static struct scenario s;
	struct err e;
	const char *text = "[vm]\nregion-size = 1G\nthp = always\n"
			   "[population a]\ntype = anon\nsize = 32M\n"
			   "[population t]\ntype = thp-cow\nsize = 64M\n"
			   "[step all]\nrequested-size = 0\n";
	if (scenario_parse(text, "c.ini", &s, &e) < 0)
		fail_msg("%s", e.msg);
	struct vm_region r = { .addr = 4ull << 30, .size = 1ull << 30, .block_size = 2ull << 20, .node = 1 };
	struct json_object *cmd = proto_cmd_setup(&s, &r);
	assert_string_equal(json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN),
			    "{\"cmd\":\"setup\",\"region\":{\"addr\":4294967296,\"size\":1073741824,"
			    "\"block_size\":2097152,\"node\":1},\"thp\":\"always\",\"populations\":["
			    "{\"name\":\"a\",\"type\":\"anon\",\"size\":33554432},"
			    "{\"name\":\"t\",\"type\":\"thp-cow\",\"size\":67108864}]}");
	json_object_put(cmd);
	cmd = proto_cmd_state("unplug-all", false);
	assert_string_equal(json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN),
			    "{\"cmd\":\"state\",\"step\":\"unplug-all\"}");
	json_object_put(cmd);
	cmd = proto_cmd_poweroff();
	assert_string_equal(json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN), "{\"cmd\":\"poweroff\"}");
	json_object_put(cmd);
}

static void activity_answers(void **state)
{
	(void)state;
	struct err e = { "" };
	static const struct {
		const char *json;
		int ok;
		int64_t events, stalled;
		bool broken;
	} cases[] = {
		{ "{\"type\":\"activity\",\"events\":12}", 1, 12, -1, false },
		{ "{\"type\":\"activity\",\"events\":-1}", 1, -1, -1, false },
		{ "{\"type\":\"activity\",\"events\":3,\"stalled_ms\":6500}", 1, 3, 6500, false },
		{ "{\"type\":\"activity\",\"events\":3,\"driver_broken\":true}", 1, 3, -1, true },
		{ "{\"type\":\"activity\",\"events\":3,\"stalled_ms\":-5}", 0, 0, 0, false },
		{ "{\"type\":\"activity\",\"events\":3,\"stalled_ms\":\"long\"}", 0, 0, 0, false },
		{ "{\"type\":\"activity\"}", 0, 0, 0, false },
		{ "{\"type\":\"activity\",\"events\":-2}", 0, 0, 0, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *m = json_tokener_parse(cases[i].json);
		assert_non_null(m);
		int64_t events, stalled;
		bool broken;
		int r = proto_activity(m, &events, &broken, &stalled, &e);
		json_object_put(m);
		if (!cases[i].ok) {
			assert_int_equal(r, -1);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(events, cases[i].events);
		assert_int_equal(stalled, cases[i].stalled);
		assert_int_equal(broken, cases[i].broken);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(activity_answers),
		cmocka_unit_test(encodes_commands),
		cmocka_unit_test(decodes_a_good_state),
		cmocka_unit_test(decodes_counters_holds_and_worker),
		cmocka_unit_test(rejects_bad_states),
		cmocka_unit_test(rejects_garbage_lines),
		cmocka_unit_test(checks_hello),
		cmocka_unit_test(error_messages_are_sanitised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
