// Behavioural model of the Lattice ECP5 MULT18X18D, for the subset dscgen instantiates (its
// DSP primitives' `ifdef DSCGEN_ECP5_DSP` branch): an 18 × 18 multiply, signed or unsigned per
// operand, with the input, pipeline and output registers each either bypassed ("NONE") or
// clocked by CLK0 ("CLK0") and synchronously cleared by RST0; each enabled by CE0, except the
// B input register, which may take CE1 (REG_INPUTB_CE). Cascade, shift, the C input and the
// other clocks are not modelled (dscgen ties them off).
//
// It lets Icarus and Verilator run that branch against the same Rust models as the portable
// `*` branch; the silicon's behaviour is as documented in Lattice's sysDSP usage guide
// (TN1267) and FPGA libraries reference. Yosys and nextpnr never read this file: for them
// MULT18X18D is the hard block.
module MULT18X18D #(
    parameter REG_INPUTA_CLK = "NONE",
    parameter REG_INPUTB_CLK = "NONE",
    parameter REG_INPUTB_CE = "CE0",
    parameter REG_PIPELINE_CLK = "NONE",
    parameter REG_OUTPUT_CLK = "NONE"
) (
    input A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17,
    input B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    // verilator lint_off UNUSEDSIGNAL
    input C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17,
    input SOURCEA, SOURCEB,
    // verilator lint_on UNUSEDSIGNAL
    input SIGNEDA, SIGNEDB,
    input CLK0, CE0, CE1, RST0,
    output P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35
);
    initial begin
        if ((REG_INPUTA_CLK != "NONE" && REG_INPUTA_CLK != "CLK0")
            || (REG_INPUTB_CLK != "NONE" && REG_INPUTB_CLK != "CLK0")
            || (REG_PIPELINE_CLK != "NONE" && REG_PIPELINE_CLK != "CLK0")
            || (REG_OUTPUT_CLK != "NONE" && REG_OUTPUT_CLK != "CLK0")
            || (REG_INPUTB_CE != "CE0" && REG_INPUTB_CE != "CE1")) begin
            $display("MULT18X18D model: only NONE or CLK0 registers, CE0 or CE1 for B, are modelled");
            $finish;
        end
    end

    wire [17:0] a_in = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b_in = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    reg [17:0] a_reg = 18'd0;
    reg [17:0] b_reg = 18'd0;
    reg sa_reg = 1'b0;
    reg sb_reg = 1'b0;
    wire [17:0] a_op = REG_INPUTA_CLK == "NONE" ? a_in : a_reg;
    wire [17:0] b_op = REG_INPUTB_CLK == "NONE" ? b_in : b_reg;
    wire sa = REG_INPUTA_CLK == "NONE" ? SIGNEDA : sa_reg;
    wire sb = REG_INPUTB_CLK == "NONE" ? SIGNEDB : sb_reg;
    // Each operand extended to 36 bits by its own signedness; the low 36 bits of the product.
    wire [35:0] a_ext = {{18{sa & a_op[17]}}, a_op};
    wire [35:0] b_ext = {{18{sb & b_op[17]}}, b_op};
    wire [35:0] product = a_ext * b_ext;
    reg [35:0] pipe_reg = 36'd0;
    wire [35:0] pipe_out = REG_PIPELINE_CLK == "NONE" ? product : pipe_reg;
    reg [35:0] out_reg = 36'd0;
    wire [35:0] p_out = REG_OUTPUT_CLK == "NONE" ? pipe_out : out_reg;

    wire b_ce = REG_INPUTB_CE == "CE1" ? CE1 : CE0;

    always @(posedge CLK0) begin
        if (RST0) begin
            a_reg <= 18'd0;
            sa_reg <= 1'b0;
            pipe_reg <= 36'd0;
            out_reg <= 36'd0;
        end else if (CE0) begin
            a_reg <= a_in;
            sa_reg <= SIGNEDA;
            pipe_reg <= product;
            out_reg <= pipe_out;
        end
        if (RST0) begin
            b_reg <= 18'd0;
            sb_reg <= 1'b0;
        end else if (b_ce) begin
            b_reg <= b_in;
            sb_reg <= SIGNEDB;
        end
    end

assign P0 = p_out[0];
assign P1 = p_out[1];
assign P2 = p_out[2];
assign P3 = p_out[3];
assign P4 = p_out[4];
assign P5 = p_out[5];
assign P6 = p_out[6];
assign P7 = p_out[7];
assign P8 = p_out[8];
assign P9 = p_out[9];
assign P10 = p_out[10];
assign P11 = p_out[11];
assign P12 = p_out[12];
assign P13 = p_out[13];
assign P14 = p_out[14];
assign P15 = p_out[15];
assign P16 = p_out[16];
assign P17 = p_out[17];
assign P18 = p_out[18];
assign P19 = p_out[19];
assign P20 = p_out[20];
assign P21 = p_out[21];
assign P22 = p_out[22];
assign P23 = p_out[23];
assign P24 = p_out[24];
assign P25 = p_out[25];
assign P26 = p_out[26];
assign P27 = p_out[27];
assign P28 = p_out[28];
assign P29 = p_out[29];
assign P30 = p_out[30];
assign P31 = p_out[31];
assign P32 = p_out[32];
assign P33 = p_out[33];
assign P34 = p_out[34];
assign P35 = p_out[35];
endmodule
