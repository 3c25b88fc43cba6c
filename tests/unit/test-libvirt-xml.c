/* The libvirt backend's XML: the domain we define, the virtio-mem device
 * read from libvirt 9.0's live XML, the device rewritten for a resize, the
 * capabilities, remote URIs. That libvirt accepts all this is the
 * integration tests' part (tests/integration/libvirt.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "vm/libvirt-xml.h"

/* Trimmed from `virsh dumpxml` of a running domain (libvirt 9.0.0). */
static const char live[] =
	"<domain type='qemu' id='3'>\n"
	"  <name>vmemstress-AbC123</name>\n"
	"  <maxMemory slots='2' unit='KiB'>1589248</maxMemory>\n"
	"  <devices>\n"
	"    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
	"    <memballoon model='none'/>\n"
	"    <memory model='dimm'>\n"
	"      <target><size unit='KiB'>131072</size><node>0</node></target>\n"
	"      <alias name='dimm0'/>\n"
	"    </memory>\n"
	"    <memory model='virtio-mem'>\n"
	"      <target>\n"
	"        <size unit='KiB'>1048576</size>\n"
	"        <node>1</node>\n"
	"        <block unit='KiB'>2048</block>\n"
	"        <requested unit='KiB'>524288</requested>\n"
	"        <current unit='KiB'>917504</current>\n"
	"      </target>\n"
	"      <alias name='virtiomem0'/>\n"
	"      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n"
	"    </memory>\n"
	"  </devices>\n"
	"</domain>\n";

static char *xpath_string(const char *xml, const char *expr)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	xmlChar *s = xmlXPathCastToString(res);
	char *out = strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out;
}

static void assert_xpath(const char *xml, const char *expr, const char *want)
{
	char *got = xpath_string(xml, expr);
	if (strcmp(got, want) != 0)
		fail_msg("%s: \"%s\", expected \"%s\"", expr, got, want);
	free(got);
}

static void domain_xml(void **state)
{
	struct lv_domain_spec d = {
		.name = "vmemstress-AbC123", .type = "qemu", .kernel = "/k/vmlinuz", .initrd = "/k/initrd.cpio",
		.cmdline = "console=ttyS0 x='1 & <2>' \"q\"", .console = "/out/a&b/console.log",
		.port_name = "org.vmemstress.0", .cpus = 2, .boot_memory = 512ull << 20,
		.node1_memory = LV_NODE1_MEMORY, .region_size = 1ull << 30, .initial_size = 256ull << 20,
		.block_size = 2ull << 20,
	};
	char *xml = lv_domain_xml(&d);
	assert_xpath(xml, "string(/domain/@type)", "qemu");
	assert_xpath(xml, "string(/domain/name)", "vmemstress-AbC123");
	/* escaped on the way in, the same text on the way out */
	assert_xpath(xml, "string(/domain/os/cmdline)", "console=ttyS0 x='1 & <2>' \"q\"");
	assert_xpath(xml, "string(/domain/devices/serial/source/@path)", "/out/a&b/console.log");
	assert_xpath(xml, "string(/domain/devices/console/source/@path)", "/out/a&b/console.log");
	assert_xpath(xml, "string(/domain/os/kernel)", "/k/vmlinuz");
	assert_xpath(xml, "string(/domain/os/initrd)", "/k/initrd.cpio");
	/* 512 MiB + 16 MiB + 1 GiB in KiB, with slots */
	assert_xpath(xml, "string(/domain/maxMemory)", "1589248");
	assert_xpath(xml, "string(/domain/maxMemory/@slots)", "2");
	assert_xpath(xml, "string(/domain/cpu/numa/cell[@id='0']/@cpus)", "0-1");
	assert_xpath(xml, "string(/domain/cpu/numa/cell[@id='0']/@memory)", "524288");
	assert_xpath(xml, "string(/domain/cpu/numa/cell[@id='1']/@memory)", "16384");
	assert_xpath(xml, "count(/domain/cpu/numa/cell[@id='1']/@cpus)", "0");
	assert_xpath(xml, "string(/domain/devices/memory[@model='virtio-mem']/target/size)", "1048576");
	assert_xpath(xml, "string(/domain/devices/memory/target/node)", "1");
	assert_xpath(xml, "string(/domain/devices/memory/target/block)", "2048");
	assert_xpath(xml, "string(/domain/devices/memory/target/requested)", "262144");
	assert_xpath(xml, "string(/domain/devices/channel[@type='unix']/target/@name)", "org.vmemstress.0");
	/* no path: libvirt makes one on the daemon's host */
	assert_xpath(xml, "count(/domain/devices/channel/source/@path)", "0");
	assert_xpath(xml, "string(/domain/on_reboot)", "destroy");
	assert_xpath(xml, "count(/domain/features/acpi)", "1");
	assert_xpath(xml, "count(/domain/devices/emulator)", "0");
	free(xml);

	d.type = "kvm";
	d.emulator = "/opt/qemu/bin/qemu-system-x86_64";
	xml = lv_domain_xml(&d);
	assert_xpath(xml, "string(/domain/@type)", "kvm");
	assert_xpath(xml, "string(/domain/devices/emulator)", "/opt/qemu/bin/qemu-system-x86_64");
	free(xml);
}

static void live_device(void **state)
{
	struct lv_memdev m;
	struct err e = { "" };
	assert_int_equal(lv_find_memdev(live, NULL, &m, &e), 0);
	assert_string_equal(m.alias, "virtiomem0");
	assert_int_equal(m.size, 1ull << 30);
	assert_int_equal(m.block_size, 2ull << 20);
	assert_int_equal(m.requested, 512ull << 20);
	assert_int_equal(m.current, 896ull << 20);
	assert_int_equal(m.node, 1);
	assert_false(m.have_addr);  /* libvirt 9.0 does not show it */
	assert_int_equal(lv_find_memdev(live, "virtiomem0", &m, &e), 0);

	assert_int_equal(lv_find_memdev(live, "virtiomem7", &m, &e), -1);
	assert_string_equal(e.msg, "libvirt's live XML has no virtio-mem device virtiomem7");
	assert_int_equal(lv_find_memdev("<domain/>", NULL, &m, &e), -1);
	assert_int_equal(lv_find_memdev("not xml", NULL, &m, &e), -1);
	assert_string_equal(e.msg, "libvirt's XML cannot be parsed");

	/* other units, an address (newer libvirt), no <current> yet */
	const char *other = "<domain><devices><memory model='virtio-mem'><target>"
			    "<size unit='GiB'>8</size><node>1</node><block unit='MiB'>2</block>"
			    "<requested unit='bytes'>1073741824</requested><address base='0x140000000'/>"
			    "</target><alias name='ua-mem'/></memory></devices></domain>";
	assert_int_equal(lv_find_memdev(other, NULL, &m, &e), 0);
	assert_int_equal(m.size, 8ull << 30);
	assert_int_equal(m.block_size, 2ull << 20);
	assert_int_equal(m.requested, 1ull << 30);
	assert_int_equal(m.current, 0);
	assert_true(m.have_addr);
	assert_int_equal(m.addr, 0x140000000ull);

	const char *bad = "<domain><devices><memory model='virtio-mem'><target><size unit='parsecs'>8</size>"
			  "<block>2048</block><requested>0</requested></target></memory></devices></domain>";
	assert_int_equal(lv_find_memdev(bad, NULL, &m, &e), -1);
	assert_string_equal(e.msg, "libvirt's XML: virtio-mem <size> \"8\" unit \"parsecs\" is not a size");
}

static void resize_xml(void **state)
{
	struct err e = { "" };
	char *dev = lv_memdev_with_requested(live, "virtiomem0", 0, &e);
	assert_non_null(dev);
	/* the whole device: libvirt finds it by its address and checks <size> */
	assert_xpath(dev, "string(/memory/@model)", "virtio-mem");
	assert_xpath(dev, "string(/memory/target/requested)", "0");
	assert_xpath(dev, "string(/memory/target/requested/@unit)", "KiB");
	assert_xpath(dev, "string(/memory/target/size)", "1048576");
	assert_xpath(dev, "string(/memory/target/block)", "2048");
	assert_xpath(dev, "string(/memory/address/@bus)", "0x03");
	assert_xpath(dev, "string(/memory/alias/@name)", "virtiomem0");
	free(dev);
	dev = lv_memdev_with_requested(live, NULL, 300ull << 20, &e);
	assert_xpath(dev, "string(/memory/target/requested)", "307200");
	free(dev);
	assert_null(lv_memdev_with_requested(live, "dimm0", 0, &e));
}

static void capabilities(void **state)
{
	const char *tcg = "<capabilities><host/><guest><os_type>hvm</os_type><arch name='x86_64'>"
			  "<domain type='qemu'/></arch></guest><guest><os_type>hvm</os_type><arch name='i686'>"
			  "<domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>";
	assert_true(lv_caps_offer(tcg, "qemu"));
	assert_false(lv_caps_offer(tcg, "kvm"));  /* only for i686 */
	const char *kvm = "<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'>"
			  "<domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>";
	assert_true(lv_caps_offer(kvm, "kvm"));
	assert_false(lv_caps_offer("garbage", "qemu"));
}

static void remote_uris(void **state)
{
	assert_false(lv_uri_is_remote("qemu:///system"));
	assert_false(lv_uri_is_remote("qemu+unix:///system?socket=/tmp/x/libvirt-sock"));
	assert_false(lv_uri_is_remote("qemu+ssh://localhost/system"));
	assert_false(lv_uri_is_remote("qemu+tcp://127.0.0.1:16509/system"));
	assert_false(lv_uri_is_remote("qemu+tcp://[::1]/system"));
	assert_true(lv_uri_is_remote("qemu+ssh://root@bench-3/system"));
	assert_true(lv_uri_is_remote("qemu+ssh://bench-3:2222/system?keyfile=/k"));
	assert_true(lv_uri_is_remote("qemu+tls://[fd00::7]/system"));
}

static void qmp_address(void **state)
{
	struct err e = { "" };
	uint64_t a = 0;
	const char *json = "{\"return\":[{\"type\":\"virtio-mem\",\"data\":{\"memaddr\":4294967296,\"block-size\":2097152,"
			   "\"node\":1,\"id\":\"virtiomem0\"}}],\"id\":\"libvirt-415\"}";
	assert_int_equal(lv_qmp_memaddr(json, "virtiomem0", &a, &e), 0);
	assert_int_equal(a, 4ull << 30);
	assert_int_equal(lv_qmp_memaddr(json, "virtiomem1", &a, &e), -1);
	assert_string_equal(e.msg, "QEMU's query-memory-devices does not list virtiomem1");
	assert_int_equal(lv_qmp_memaddr("{\"error\":{}}", "virtiomem0", &a, &e), -1);
	assert_int_equal(lv_qmp_memaddr("][", "virtiomem0", &a, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(domain_xml),  cmocka_unit_test(live_device), cmocka_unit_test(resize_xml),
		cmocka_unit_test(capabilities), cmocka_unit_test(remote_uris), cmocka_unit_test(qmp_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
