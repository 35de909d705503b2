package io.pgtrickle.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.DoubleFunction;
import java.util.function.DoubleUnaryOperator;

/**
 * A line chart as a standalone SVG document: one polyline with markers per series, a logarithmic
 * y axis (decades labelled, 2 and 5 between them as grid lines), and an x axis that is logarithmic
 * or linear, ticked at the x values the series have. Values that a log axis cannot show (zero,
 * negative, NaN) are left out, which breaks the line there.
 *
 * <p>Each series is a {@code <g class="series" data-series="NAME">} holding its polyline and one
 * circle per point, with a {@code <title>} tooltip per point.
 */
public final class SvgChart {
    public record Point(double x, double y) {
    }

    public record Series(String name, List<Point> points) {
        public Series {
            points = List.copyOf(points);
        }
    }

    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};
    private static final int WIDTH = 640;
    private static final int HEIGHT = 380;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 95;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logX;
    private final DoubleFunction<String> xFormat;
    private final List<Series> series = new ArrayList<>();

    /**
     * @param xFormat how an x tick is labelled (e.g. a change rate 0.01 as "1 %")
     */
    public SvgChart(String title, String xLabel, String yLabel, boolean logX, DoubleFunction<String> xFormat) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logX = logX;
        this.xFormat = xFormat;
    }

    public SvgChart add(Series s) {
        series.add(s);
        return this;
    }

    public SvgChart add(String name, List<Point> points) {
        return add(new Series(name, points));
    }

    public String render() {
        List<Point> all = series.stream().flatMap(s -> s.points().stream()).filter(this::drawable).toList();
        double yMin = all.stream().mapToDouble(Point::y).min().orElse(1);
        double yMax = all.stream().mapToDouble(Point::y).max().orElse(10);
        int decadeLo = (int) Math.floor(Math.log10(yMin));
        int decadeHi = (int) Math.ceil(Math.log10(yMax));
        if (decadeHi <= decadeLo) {
            decadeHi = decadeLo + 1;
        }
        TreeSet<Double> xs = new TreeSet<>();
        all.forEach(p -> xs.add(p.x()));
        double xMin = xs.isEmpty() ? 1 : xs.first();
        double xMax = xs.isEmpty() ? 10 : xs.last();
        if (xMax <= xMin) {
            xMax = logX ? xMin * 10 : xMin + 1;
        }
        final int lo = decadeLo;
        final int hi = decadeHi;
        // 4 % of the axis as margin on both sides, so that no marker sits on the frame
        final double x0;
        final double x1;
        if (logX) {
            double pad = (Math.log10(xMax) - Math.log10(xMin)) * 0.04;
            x0 = Math.pow(10, Math.log10(xMin) - pad);
            x1 = Math.pow(10, Math.log10(xMax) + pad);
        } else {
            double pad = (xMax - xMin) * 0.04;
            x0 = xMin - pad;
            x1 = xMax + pad;
        }
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        DoubleUnaryOperator sx = x -> LEFT + plotW * (logX ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))
                : (x - x0) / (x1 - x0));
        DoubleUnaryOperator sy = y -> TOP + plotH * (1 - (Math.log10(y) - lo) / (hi - lo));

        StringBuilder svg = new StringBuilder();
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        svg.append("<title>").append(escape(title)).append("</title>\n");
        svg.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" "
                + "font-weight=\"bold\">%s</text>%n", WIDTH / 2, escape(title)));
        // y grid: decades labelled, 2x and 5x as light lines
        svg.append("<g class=\"y-axis\">\n");
        for (int d = lo; d <= hi; d++) {
            for (int m : new int[] {1, 2, 5}) {
                double v = m * Math.pow(10, d);
                if (d == hi && m > 1) {
                    break;
                }
                double y = sy.applyAsDouble(v);
                svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>%n",
                        LEFT, LEFT + plotW, y, y, m == 1 ? "#bbb" : "#eee"));
                if (m == 1) {
                    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                            LEFT - 6, y + 4, escape(number(v))));
                }
            }
        }
        svg.append(String.format(Locale.ROOT, "<text transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">%s</text>%n",
                TOP + plotH / 2, escape(yLabel)));
        svg.append("</g>\n");
        // x ticks at the values the series have
        svg.append("<g class=\"x-axis\">\n");
        for (double x : xs) {
            double px = sx.applyAsDouble(x);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>%n",
                    px, px, TOP, TOP + plotH));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    px, TOP + plotH + 16, escape(xFormat.apply(x))));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                LEFT + plotW / 2, TOP + plotH + 34, escape(xLabel)));
        svg.append("</g>\n");
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>%n",
                LEFT, TOP, plotW, plotH));
        // series
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String color = COLORS[i % COLORS.length];
            svg.append(String.format("<g class=\"series\" data-series=\"%s\" stroke=\"%s\" fill=\"%s\">%n", escape(s.name()),
                    color, color));
            List<List<Point>> runs = new ArrayList<>();
            List<Point> run = new ArrayList<>();
            for (Point p : s.points()) {
                if (drawable(p)) {
                    run.add(p);
                } else if (!run.isEmpty()) {
                    runs.add(run);
                    run = new ArrayList<>();
                }
            }
            if (!run.isEmpty()) {
                runs.add(run);
            }
            for (List<Point> r : runs) {
                StringBuilder pts = new StringBuilder();
                for (Point p : r) {
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", sx.applyAsDouble(p.x()), sy.applyAsDouble(p.y())));
                }
                svg.append("<polyline fill=\"none\" stroke-width=\"2\" points=\"").append(pts.toString().strip()).append("\"/>\n");
            }
            for (Point p : s.points()) {
                if (drawable(p)) {
                    svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"><title>%s @ %s: %s</title></circle>%n",
                            sx.applyAsDouble(p.x()), sy.applyAsDouble(p.y()), escape(s.name()), escape(xFormat.apply(p.x())), escape(number(p.y()))));
                }
            }
            svg.append("</g>\n");
        }
        // legend below the plot
        svg.append("<g class=\"legend\">\n");
        int lx = LEFT;
        int ly = HEIGHT - 30;
        for (int i = 0; i < series.size(); i++) {
            String color = COLORS[i % COLORS.length];
            String name = series.get(i).name();
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                    lx, lx + 20, ly, ly, color));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", lx + 25, ly + 4, escape(name)));
            lx += 45 + 7 * name.length();
            if (lx > WIDTH - 120 && i < series.size() - 1) {
                lx = LEFT;
                ly += 16;
            }
        }
        svg.append("</g>\n</svg>\n");
        return svg.toString();
    }

    private boolean drawable(Point p) {
        return p.y() > 0 && Double.isFinite(p.y()) && Double.isFinite(p.x()) && (!logX || p.x() > 0);
    }

    /** A tick or tooltip number: no exponent, no trailing zeros. */
    static String number(double v) {
        if (v >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        String s = String.format(Locale.ROOT, v >= 1 ? "%.1f" : "%.3g", v);
        if (s.contains(".")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s;
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
