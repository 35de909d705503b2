package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class SvgChartTest {
    private static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Element> seriesGroups(Document doc) {
        NodeList groups = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (g.getAttribute("class").equals("series")) {
                out.add(g);
            }
        }
        return out;
    }

    @Test
    void everySeriesIsAGroupWithAPolylineAndOneMarkerPerPoint() throws Exception {
        List<SvgChart.Point> diff = List.of(new SvgChart.Point(0.001, 2.5), new SvgChart.Point(0.01, 12),
                new SvgChart.Point(0.1, 90), new SvgChart.Point(0.5, 400));
        List<SvgChart.Point> full = List.of(new SvgChart.Point(0.001, 480), new SvgChart.Point(0.01, 470),
                new SvgChart.Point(0.1, 510), new SvgChart.Point(0.5, 600));
        String svg = new SvgChart("2-way join <100K rows> & more", "change rate", "ms", true, x -> x * 100 + " %")
                .add("DIFF", diff).add("FULL", full).add("matview CONCURRENTLY", full).render();

        Document doc = parse(svg);
        assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("svg");
        List<Element> groups = seriesGroups(doc);
        assertThat(groups).extracting(g -> g.getAttribute("data-series"))
                .containsExactly("DIFF", "FULL", "matview CONCURRENTLY");
        for (Element g : groups) {
            assertThat(g.getElementsByTagNameNS("*", "polyline").getLength()).isEqualTo(1);
            assertThat(g.getElementsByTagNameNS("*", "circle").getLength()).isEqualTo(4);
            String points = ((Element) g.getElementsByTagNameNS("*", "polyline").item(0)).getAttribute("points");
            assertThat(points.split(" ")).hasSize(4);
        }
        assertThat(doc.getElementsByTagNameNS("*", "title").item(0).getTextContent())
                .isEqualTo("2-way join <100K rows> & more");
    }

    @Test
    void logAxisPutsLargerValuesHigherAndLeavesOutWhatItCannotShow() throws Exception {
        String svg = new SvgChart("t", "x", "ms", false, x -> Double.toString(x))
                .add("s", List.of(new SvgChart.Point(1, 1), new SvgChart.Point(2, 0), new SvgChart.Point(3, 1000),
                        new SvgChart.Point(4, 100)))
                .render();
        Element g = seriesGroups(parse(svg)).get(0);
        NodeList lines = g.getElementsByTagNameNS("*", "polyline");
        assertThat(lines.getLength()).as("the zero breaks the line in two").isEqualTo(2);
        NodeList circles = g.getElementsByTagNameNS("*", "circle");
        assertThat(circles.getLength()).isEqualTo(3);
        double y1 = Double.parseDouble(((Element) circles.item(0)).getAttribute("cy"));
        double y1000 = Double.parseDouble(((Element) circles.item(1)).getAttribute("cy"));
        double y100 = Double.parseDouble(((Element) circles.item(2)).getAttribute("cy"));
        assertThat(y1000).isLessThan(y100);
        assertThat(y100).isLessThan(y1);
        // equal distances per decade
        assertThat((y1 - y100) / 2).isCloseTo(y100 - y1000, org.assertj.core.api.Assertions.within(0.2));
    }

    @Test
    void anEmptyChartIsStillAValidDocument() throws Exception {
        Document doc = parse(new SvgChart("nothing", "x", "y", true, x -> "").render());
        assertThat(seriesGroups(doc)).isEmpty();
    }
}
